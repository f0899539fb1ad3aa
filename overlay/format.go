package overlay

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/overlayfs"
)

// RootWhiteoutForm names, in explanations, how a root/ dir records a
// deletion: by not having an entry its parent layer's root/ has.
const RootWhiteoutForm = "absent from root/ (the parent layer's root/ has it)"

// Format reads the driver's layer dirs. It implements layerfs.Format.
//
// A dir below <home>/<id>/root is read as the layer's own changes: an
// entry is the layer's when the parent layer's root/ has nothing of that
// name, or something else — for a regular file, another inode (moby's
// ApplyDiff hardlinks every regular file it does not replace); for a
// symlink, FIFO or device (which the copy re-creates), a different type,
// mode, owner, rdev, size, mtime or link target. Every layer has its own
// copy of every dir, so the union always goes on below a dir; one the
// parent has too is Implied: the layer's change only when its metadata
// differs or something below it is the layer's, as in Docker's diff.
// An entry of the parent's dir that this layer's dir lacks is a whiteout.
// A base layer (or one whose parent the layer records do not give) owns
// everything. Every other dir (upper/ of a container's layers) is read as
// an overlayfs upper dir.
//
// Two limits, both of the on-disk form: a store copied without keeping
// hardlinks (cp -a keeps them; rsync without -H does not) makes every
// regular file its layer's own, and a layer that re-creates a symlink,
// FIFO or device identical to its parent's, mtime included, does not own
// it. Either changes which layer an entry is said to come from, never
// what a stack shows: a non-own entry is the parent's, metadata and all.
type Format struct {
	home   string
	parent func(id string) (string, bool)
	cache  *listings
}

// NewFormat returns the Format of the driver home home; parent gives the
// image layer below a layer dir (ok false for a base layer).
func NewFormat(home string, parent func(id string) (pid string, ok bool)) *Format {
	return &Format{home: filepath.Clean(home), parent: parent, cache: newListings(256)}
}

// rootOf says whether d is below an image layer's root/, and which.
func (f *Format) rootOf(d *layerfs.Dir) (id string, rel []string, ok bool) {
	rest, ok := strings.CutPrefix(filepath.Clean(d.Path), f.home+"/")
	if !ok {
		return "", nil, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || parts[1] != rootDir || !ValidID(parts[0]) {
		return "", nil, false
	}
	return parts[0], parts[2:], true
}

// Lookup classifies the entry name of d.
func (f *Format) Lookup(d *layerfs.Dir, name string) (layerfs.Entry, bool, error) {
	id, rel, ok := f.rootOf(d)
	if !ok {
		return overlayfs.Format{}.Lookup(d, name)
	}
	pl, err := f.parentListing(id, rel)
	if err != nil {
		return layerfs.Entry{}, false, err
	}
	return f.lookupRoot(d, name, pl)
}

func (f *Format) lookupRoot(d *layerfs.Dir, name string, pl *listing) (layerfs.Entry, bool, error) {
	st, ok, err := d.Lstat(name)
	if err != nil {
		return layerfs.Entry{}, false, err
	}
	pe, inParent := pl.get(name)
	if !ok {
		if inParent {
			return whiteout(name), true, nil
		}
		return layerfs.Entry{}, false, nil
	}
	e := layerfs.Entry{Name: name, RawName: name, Stat: st, Implied: inParent && st.IsDir() && pe.st.IsDir()}
	if inParent && !st.IsDir() {
		same, err := sameEntry(d, name, st, pe)
		if err != nil || same {
			return layerfs.Entry{}, false, err
		}
	}
	if t := st.Type(); t == layerfs.TypeFile || t == layerfs.TypeDir {
		v, ok, err := d.Xattr(name, "security.capability")
		if err != nil {
			return e, true, err
		}
		if ok {
			e.Capability = v
		}
	}
	return e, true, nil
}

func whiteout(name string) layerfs.Entry {
	return layerfs.Entry{Name: name, RawName: name, Kind: layerfs.Whiteout, XattrForm: RootWhiteoutForm}
}

// sameEntry reports whether the non-dir name of d is the parent's entry
// pe, kept by the copy: the same inode for a regular file, an identical
// re-creation for the others.
func sameEntry(d *layerfs.Dir, name string, st layerfs.Stat, pe parentEntry) (bool, error) {
	o := pe.st
	if st.Type() != o.Type() {
		return false, nil
	}
	if st.Type() == layerfs.TypeFile {
		return st.Dev == o.Dev && st.Ino == o.Ino, nil
	}
	if st.Mode != o.Mode || st.UID != o.UID || st.GID != o.GID || st.Rdev != o.Rdev || st.Size != o.Size || st.Mtime != o.Mtime {
		return false, nil
	}
	if st.Type() != layerfs.TypeSymlink {
		return true, nil
	}
	t, err := d.Readlink(name)
	if err != nil {
		return false, err
	}
	return t == pe.target, nil
}

// ReadDirAdded is ReadDir for a caller that needs only the union's
// markers (layerfs.AddedReader): an upper dir is read as by
// overlayfs.Format.ReadDirAdded, a root/ dir in full.
func (f *Format) ReadDirAdded(d *layerfs.Dir) ([]layerfs.Entry, error) {
	if _, _, ok := f.rootOf(d); !ok {
		return overlayfs.Format{}.ReadDirAdded(d)
	}
	return f.ReadDir(d)
}

// ReadDir lists d sorted by name: for a root/ dir, the layer's own
// entries and a whiteout for each entry of the parent's dir it lacks.
func (f *Format) ReadDir(d *layerfs.Dir) ([]layerfs.Entry, error) {
	id, rel, ok := f.rootOf(d)
	if !ok {
		return overlayfs.Format{}.ReadDir(d)
	}
	pl, err := f.parentListing(id, rel)
	if err != nil {
		return nil, err
	}
	names, err := d.Names()
	if err != nil {
		return nil, err
	}
	out := make([]layerfs.Entry, 0, len(names))
	here := make(map[string]bool, len(names))
	for _, n := range names {
		here[n] = true
		e, ok, err := f.lookupRoot(d, n, pl)
		if err != nil {
			return out, fmt.Errorf("%s: %w", d.Path, err)
		}
		if ok {
			out = append(out, e)
		}
	}
	for _, n := range pl.names() {
		if !here[n] {
			out = append(out, whiteout(n))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
