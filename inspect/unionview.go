package inspect

import "github.com/dlayer/dlayer/inspect/layerfs"

// UnionDir is one layer's open directory in a union view.
type UnionDir struct {
	// Layer is the layer's index in its stack, topmost first.
	Layer int
	// Dir is the open directory; CloseUnion closes it.
	Dir *layerfs.Dir
}

// Union applies the union rules that explain and diff walk by (union.go)
// to one path at a time: in a stack of layer dirs, topmost first, the
// first dir holding a name decides; a whiteout there deletes it; a dir's
// lower view ends at the first whiteout, non-dir or opaque dir.
type Union struct{ w *walker }

// Union returns the union rules of the store's driver.
func (s *Store) Union() Union { return Union{w: &walker{f: s.graph.Format()}} }

// Format reads the driver's layer dirs (entries, whiteouts, opaque dirs).
func (u Union) Format() layerfs.Format { return u.w.f }

// Lookup finds name in the lower view dirs: the first dir holding it
// (bookkeeping files are not entries) decides. ok is false when none has
// it, or when that first entry is a whiteout.
func (u Union) Lookup(dirs []UnionDir, name string) (layer int, e layerfs.Entry, ok bool, err error) {
	h, ok, err := u.w.lookup(toLdirs(dirs), name)
	return h.lay, h.e, ok, err
}

// Sub opens the lower view of dir name below dirs: every contributing
// layer's dir, from the top, down to the first whiteout, non-dir or
// opaque dir (inclusive). The caller closes the dirs it returns.
func (u Union) Sub(dirs []UnionDir, name string) ([]UnionDir, error) {
	ls, err := u.w.subdirs(toLdirs(dirs), name)
	if err != nil {
		return nil, err
	}
	out := make([]UnionDir, len(ls))
	for i, l := range ls {
		out[i] = UnionDir{Layer: l.layer, Dir: l.d}
	}
	return out, nil
}

// CloseUnion closes every dir of dirs.
func CloseUnion(dirs []UnionDir) {
	for _, d := range dirs {
		d.Dir.Close()
	}
}

func toLdirs(dirs []UnionDir) []ldir {
	out := make([]ldir, len(dirs))
	for i, d := range dirs {
		out[i] = ldir{layer: d.Layer, d: d.Dir}
	}
	return out
}
