package aufs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// The names aufs gives its markers (moby pkg/archive whiteouts.go).
const (
	// WhiteoutPrefix starts a whiteout: ".wh.<name>" deletes <name>.
	WhiteoutPrefix = ".wh."
	// MetaPrefix starts aufs's own files: ".wh..wh.<something>".
	MetaPrefix = WhiteoutPrefix + WhiteoutPrefix
	// OpaqueMarker in a directory makes it opaque.
	OpaqueMarker = MetaPrefix + ".opq"
)

// Format reads aufs branches. It implements layerfs.Format.
type Format struct{}

// Classify says what a raw name of a branch means: the name it stands for
// and its kind. The opaque marker is reported as Bookkeeping here; it is
// folded into its directory's Opaque flag by Lookup and ReadDir.
func Classify(raw string) (name string, kind layerfs.Kind) {
	switch {
	case strings.HasPrefix(raw, MetaPrefix):
		return raw, layerfs.Bookkeeping
	case strings.HasPrefix(raw, WhiteoutPrefix) && len(raw) > len(WhiteoutPrefix):
		return raw[len(WhiteoutPrefix):], layerfs.Whiteout
	}
	return raw, layerfs.Plain
}

// Lookup returns the entry for name in d: the file itself, or a whiteout
// ".wh.<name>" standing for it. A name that is itself an aufs marker is
// looked up as is (and comes back as a whiteout or bookkeeping).
func (f Format) Lookup(d *layerfs.Dir, name string) (layerfs.Entry, bool, error) {
	if _, kind := Classify(name); kind != layerfs.Plain {
		return f.entry(d, name)
	}
	e, ok, err := f.entry(d, name)
	if ok || err != nil {
		return e, ok, err
	}
	return f.entry(d, WhiteoutPrefix+name)
}

// entry stats raw in d and classifies it.
func (Format) entry(d *layerfs.Dir, raw string) (layerfs.Entry, bool, error) {
	st, ok, err := d.Lstat(raw)
	if err != nil || !ok {
		return layerfs.Entry{}, false, err
	}
	name, kind := Classify(raw)
	e := layerfs.Entry{Name: name, RawName: raw, Kind: kind, Stat: st}
	switch {
	case kind == layerfs.Whiteout:
		e.XattrForm = "aufs .wh. file"
	case kind == layerfs.Plain && st.IsDir():
		sub, err := d.Sub(raw)
		if err != nil {
			return e, true, err
		}
		_, opq, err := sub.Lstat(OpaqueMarker)
		sub.Close()
		if err != nil {
			return e, true, err
		}
		if opq {
			e.Opaque = true
			e.XattrForm = "aufs " + OpaqueMarker + " file"
		}
		fallthrough
	case kind == layerfs.Plain && st.Type() == layerfs.TypeFile:
		v, ok, err := d.Xattr(raw, "security.capability")
		if err != nil {
			return e, true, err
		}
		if ok {
			e.Capability = v
		}
	}
	return e, true, nil
}

// ReadDir lists d sorted by Name. The opaque marker is left out (it is the
// parent's Opaque flag); other aufs files are included as Bookkeeping.
func (f Format) ReadDir(d *layerfs.Dir) ([]layerfs.Entry, error) {
	names, err := d.Names()
	if err != nil {
		return nil, err
	}
	out := make([]layerfs.Entry, 0, len(names))
	for _, n := range names {
		if n == OpaqueMarker {
			continue
		}
		e, ok, err := f.entry(d, n)
		if err != nil {
			return out, fmt.Errorf("%s: %w", d.Path, err)
		}
		if ok {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
