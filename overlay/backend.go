package overlay

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerdb"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/mountinfo"
	"github.com/dlayer/dlayer/overlayfs"
)

// Name is the driver's name.
const Name backend.Name = "overlay"

// New returns the legacy overlay backend, for main to register.
func New() backend.Backend { return layerdb.Backend(Name, open) }

// open binds the backend to root. Nothing is read until asked for.
func open(root string, o layerfs.Opener) backend.Driver {
	h := Home{Dir: filepath.Join(root, string(Name)), FS: o}
	ix := newIndex(layerdb.New(root, Name, o))
	return driver{h: h, ix: ix, f: NewFormat(h.Dir, ix.parent)}
}

// driver is the legacy overlay backend bound to one data root.
type driver struct {
	h  Home
	ix *index
	f  *Format
}

func (d driver) Name() backend.Name         { return Name }
func (d driver) Home() string               { return d.h.Dir }
func (d driver) Format() layerfs.Format     { return d.f }
func (d driver) Metadata() backend.Metadata { return metadata{Store: d.ix.src, ix: d.ix} }

// Layout: an image layer's content is its root/; a container layer's is
// its upper/, with work/, merged/ and lower-id beside it. A layer dir
// that is missing is laid out as the layer records say it should be: an
// image layer when a layer's cache-id names it.
func (d driver) Layout(id string) backend.Layout {
	x := d.h.Dirs(id)
	form := d.h.Form(id)
	if form == FormMissing && !strings.HasSuffix(id, InitSuffix) && d.ix.isImageLayer(id) {
		form = FormRoot
	}
	if form == FormRoot {
		return backend.Layout{Dir: x.Layer, Content: x.Root}
	}
	return backend.Layout{Dir: x.Layer, Content: x.Upper, Work: x.Work, Merged: x.Merged, Parents: x.LowerID}
}

// Link: the driver has no short names.
func (d driver) Link(string) (string, error) { return "", nil }

// Lowers returns what the union view of layer id stands on, nearest
// first.
//
// For a container's rw layer: its init layer (<id>-init, whose upper dir
// the rw layer's upper dir started as a copy of, and whose view `docker
// diff` compares against), then the image layer lower-id names and the
// image layers below it, as the layer chain says. The kernel mounts only
// the rw upper dir over lower-id's root/, a whole tree that holds all of
// those image layers; dlayer lists them one by one, each read as its own
// changes (see Format), so that an entry's origin names the layer that
// made it. For an init layer: the image layers from lower-id down. For an
// image layer: the layers below it in the chain (nothing on disk records
// them). exists is false when nothing names a lower layer: a base layer,
// a missing dir, a container layer without lower-id.
func (d driver) Lowers(id string) ([]backend.Lower, bool, error) {
	switch d.h.Form(id) {
	case FormRoot:
		below := d.below(id)
		return below, len(below) > 0, nil
	case FormMissing:
		return nil, false, nil
	}
	top, exists, err := d.h.LowerID(id)
	if err != nil || !exists {
		return nil, exists, err
	}
	var out []backend.Lower
	if !strings.HasSuffix(id, InitSuffix) {
		init := id + InitSuffix
		lw := backend.Lower{Ref: init, ID: init, Content: d.content(init)}
		if d.h.Form(init) == FormMissing {
			lw = backend.Lower{Ref: init, Err: fmt.Errorf("%s: %w", d.h.Dirs(init).Layer, ErrNoInit)}
		}
		out = append(out, lw)
		if top == init { // a scratch image: the init layer is a root/ of its own
			return out, true, nil
		}
	}
	out = append(out, backend.Lower{Ref: top, ID: top, Content: d.content(top)})
	return append(out, d.below(top)...), true, nil
}

// MountLowers: moby's overlay Get mounts a container's rw or init layer
// with one lowerdir, the root/ of the layer its lower-id names (a whole
// tree holding every image layer below); an image layer's root/ is never
// mounted (Get returns the dir itself). exists is false for a layer dir
// that is not of the union form, or has no lower-id.
func (d driver) MountLowers(id string) ([]backend.Lower, bool, error) {
	if d.h.Form(id) != FormUnion {
		return nil, false, nil
	}
	top, exists, err := d.h.LowerID(id)
	if err != nil || !exists {
		return nil, exists, err
	}
	return []backend.Lower{{Ref: top, ID: top, Content: d.content(top)}}, true, nil
}

func (d driver) content(id string) string { return d.Layout(id).Content }

// below is the index's chain below id, with each layer's content dir.
func (d driver) below(id string) []backend.Lower {
	out := d.ix.below(id)
	for i := range out {
		if out[i].Err == nil {
			out[i].Content = d.content(out[i].ID)
		}
	}
	return out
}

// ParsePath reads the components of a path below the overlay home:
// <id>, <id>/{root,upper,work,merged}/…, <id>/lower-id, <id>/tmproot….
func (d driver) ParsePath(p []string) backend.Path {
	switch len(p) {
	case 0:
		return backend.Path{Kind: backend.PathDriverHome}
	case 1:
		return backend.Path{Kind: backend.PathLayerDir, ID: p[0]}
	}
	// other names: lower-id; tmproot* while ApplyDiff extracts a layer
	return backend.LayerSubdirs{Content: []string{rootDir, upperDir}, Work: workDir, Mountpoint: mergedDir}.Sub(p[0], p[1], p[2:])
}

// Bookkeeping: every entry of the home is a layer dir.
func (d driver) Bookkeeping(string) (string, bool) { return "", false }

// ShortLink: the driver names its layer dirs by their full ids.
func (d driver) ShortLink(string) (string, string, error) { return "", "", backend.ErrNoShortLinks }

func (d driver) IsShortLink(string) bool { return false }

// DecodeMount decodes a container's overlay mount (moby overlay Get:
// lowerdir=<home>/<lower-id>/root, upperdir=<home>/<id>/upper,
// workdir=<home>/<id>/work, always absolute). A mount whose upper dir is
// not a layer's upper/ under home is another driver's (overlay2's diff/),
// as is one with relative dirs (overlay2's l/… form). Options that do not
// parse are reported as overlay2 reports them.
func (d driver) DecodeMount(m mountinfo.Mount, home, _ string) (backend.MountDirs, *backend.MountProblem, bool) {
	var md backend.MountDirs
	if !d.MountsFSType(m) {
		return md, nil, false
	}
	ov, err := m.Overlay()
	if err != nil {
		return md, &backend.MountProblem{Malformed: true, Kind: "mount_options_malformed", Message: err.Error()}, true
	}
	if ov.Relative() || !isUpper(ov.UpperDir, home) {
		return md, nil, false
	}
	return backend.OverlayMountDirs(ov), nil, true
}

// isUpper reports whether p is <home>/<id>/upper (or, with home unknown,
// any <…>/<id>/upper).
func isUpper(p, home string) bool {
	if p == "" {
		return false
	}
	p = filepath.Clean(p)
	dir, base := filepath.Split(p)
	if base != upperDir || !ValidID(filepath.Base(dir)) {
		return false
	}
	return home == "" || filepath.Dir(filepath.Clean(dir)) == filepath.Clean(home)
}

// mounts:

// MountsFSType: the driver mounts its containers as overlay mounts.
func (d driver) MountsFSType(m mountinfo.Mount) bool { return m.FSType == "overlay" }

// verify:

func (d driver) ValidID(id string) bool { return ValidID(id) }

// LinkFile: the driver has no short links.
func (d driver) LinkFile(string) string { return "" }

// LinkTarget: the driver has no short links.
func (d driver) LinkTarget(string) string { return "" }

// LowerRef: lower-id names a layer by its id.
func (d driver) LowerRef(id, _ string) string { return id }

// BaseParents: an image layer records no parent on disk at all.
func (d driver) BaseParents() bool { return false }

// Markers: container upper dirs hold overlayfs's markers; an image
// layer's root/ holds none (a deleted entry is simply absent).
func (d driver) Markers() backend.Markers { return overlayfs.Markers{} }

// du:

// HomeLayout: every entry of the home is one layer dir, whose files are
// its root/ (image layers) or upper/ (container layers).
func (d driver) HomeLayout() backend.HomeLayout {
	return backend.HomeLayout{LayerDirs: []backend.LayerDir{{Content: true}}}
}

// ShortLinks: the driver names its layer dirs by their full ids.
func (d driver) ShortLinks() (string, []backend.ShortLinkEntry, error) {
	return "", nil, backend.ErrNoShortLinks
}
