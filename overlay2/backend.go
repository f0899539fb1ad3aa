package overlay2

import (
	"path/filepath"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerdb"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/mountinfo"
	"github.com/dlayer/dlayer/overlayfs"
)

// Name is the driver's name.
const Name backend.Name = "overlay2"

// New returns the overlay2 backend, for main to register.
func New() backend.Backend { return layerdb.Backend(Name, open) }

// open binds the backend to root, reading it through o.
func open(root string, o layerfs.Opener) backend.Driver {
	return driver{h: Home{Dir: filepath.Join(root, string(Name)), FS: o, Links: NewLinkCache()}, meta: layerdb.New(root, Name, o)}
}

// driver is the overlay2 backend bound to one data root.
type driver struct {
	h    Home
	meta *layerdb.Store
}

func (d driver) Name() backend.Name         { return Name }
func (d driver) Home() string               { return d.h.Dir }
func (d driver) Format() layerfs.Format     { return Format{} }
func (d driver) Metadata() backend.Metadata { return d.meta }

func (d driver) Layout(id string) backend.Layout {
	x := d.h.Dirs(id)
	return backend.Layout{Dir: x.Layer, Content: x.Diff, Work: x.Work, Merged: x.Merged, Parents: filepath.Join(x.Layer, "lower")}
}

func (d driver) Link(id string) (string, error) { return d.h.Link(id) }

func (d driver) Lowers(id string) ([]backend.Lower, bool, error) {
	lws, exists, err := d.h.Lowers(id)
	out := make([]backend.Lower, len(lws))
	for i, lw := range lws {
		out[i] = backend.Lower{Ref: lw.Ref, ID: lw.ID, Content: lw.Diff, Err: lw.Err}
	}
	return out, exists, err
}

// MountLowers: overlay2 mounts every layer its lower file lists.
func (d driver) MountLowers(id string) ([]backend.Lower, bool, error) { return d.Lowers(id) }

func (d driver) Terms() backend.Terms {
	return backend.Terms{Union: "overlay mount", Upper: "upper dir", Lowers: "lower file", ShortLinks: true, WorkDir: true, TrustedMarkers: true,
		ReadOnlyMountIncludesSelf: true, HasContentSubdir: true,
		Stacking: "overlayfs stacks read-only lower dirs under one writable upper dir and shows the union at the merged dir",
		DirsHelp: "upper: every write of the container lands here; work: overlayfs scratch space;\n" +
			"merged: the container's root file system, present while it is mounted",
		LowersFrom:   "as docker inspect GraphDriver.Data.LowerDir",
		LowersHelp:   "l/<short name> links keep the mount options under a page; each names ../<layer>/diff",
		LayerDirHelp: "diff/ holds the layer's files, link its short name, lower the layers below it.",
		ContentHelp:  "A layer's diff/ holds only what that layer changed.",
	}
}

// ParsePath reads the components of a path below the overlay2 home:
// l/<LINK>, backingFsBlockDev, <id>/{diff,work,merged}/…, <id>/<file>.
func (d driver) ParsePath(p []string) backend.Path {
	switch {
	case len(p) == 0:
		return backend.Path{Kind: backend.PathDriverHome}
	case p[0] == "l" && len(p) == 1:
		return backend.Path{Kind: backend.PathDriverBookkeeping, ID: "l"}
	case p[0] == "l":
		return backend.Path{Kind: backend.PathShortLink, Link: p[1], Rel: p[2:]}
	case p[0] == "backingFsBlockDev":
		return backend.Path{Kind: backend.PathDriverBookkeeping, ID: p[0], Rel: p[1:]}
	case len(p) == 1:
		return backend.Path{Kind: backend.PathLayerDir, ID: p[0]}
	}
	return backend.LayerSubdirs{Content: []string{"diff"}, Work: "work", Mountpoint: "merged"}.Sub(p[0], p[1], p[2:])
}

func (d driver) Bookkeeping(name string) (string, bool) {
	return bookkeeping(name)
}

func (d driver) ShortLink(name string) (string, string, error) {
	id, err := d.h.ResolveLink(name)
	return id, filepath.Join(d.h.Dir, "l", name), err
}

func (d driver) IsShortLink(name string) bool { return validLink(name) }

// DecodeMount decodes an overlay mount's lowerdir, upperdir and workdir;
// relative forms (l/…, as the driver mounts when the options would not
// fit in a page) are resolved against home.
func (d driver) DecodeMount(m mountinfo.Mount, home, _ string) (backend.MountDirs, *backend.MountProblem, bool) {
	var md backend.MountDirs
	if !d.MountsFSType(m) {
		return md, nil, false
	}
	ov, err := m.Overlay()
	if err != nil {
		return md, &backend.MountProblem{Malformed: true, Kind: "mount_options_malformed", Message: err.Error()}, true
	}
	relative := ov.Relative()
	if relative {
		if home == "" {
			return md, nil, false
		}
		ov = ov.Resolve(home)
	}
	md = backend.OverlayMountDirs(ov)
	md.Relative = relative
	return md, nil, true
}

// MountsFSType: the driver mounts its layers as overlay mounts.
func (d driver) MountsFSType(m mountinfo.Mount) bool { return m.FSType == "overlay" }

// verify:

func (d driver) ValidID(id string) bool { return ValidID(id) }

func (d driver) LinkFile(id string) string { return filepath.Join(d.h.Dirs(id).Layer, "link") }

// LinkTarget: l/<link> is the relative symlink ../<id>/diff.
func (d driver) LinkTarget(id string) string { return "../" + id + "/diff" }

// LowerRef: a lower file names each layer by its short link, l/<link>.
func (d driver) LowerRef(_, link string) string {
	if link == "" {
		return ""
	}
	return "l/" + link
}

// BaseParents: a base layer has no lower file.
func (d driver) BaseParents() bool { return false }

func (d driver) Markers() backend.Markers { return overlayfs.Markers{} }

// du:

// HomeLayout: every layer dir is an entry of the home, its files in diff/;
// l/ holds the short links that link files name.
func (d driver) HomeLayout() backend.HomeLayout {
	return backend.HomeLayout{
		LayerDirs:   []backend.LayerDir{{Rel: "", Content: true, ContentSubdir: "diff"}},
		Bookkeeping: "l/",
		LinkForm:    "l/<link> -> ../<cache id>/diff",
	}
}

// ShortLinks reads every link of l/ as text.
func (d driver) ShortLinks() (string, []backend.ShortLinkEntry, error) {
	dir := filepath.Join(d.h.Dir, "l")
	ents, err := layerfs.OrOS(d.h.FS).ReadDir(dir)
	if err != nil {
		return dir, nil, err
	}
	out := make([]backend.ShortLinkEntry, 0, len(ents))
	for _, e := range ents {
		l := backend.ShortLinkEntry{Name: e.Name(), Path: filepath.Join(dir, e.Name())}
		if l.ID, l.Err = d.h.ResolveLink(l.Name); l.Err == nil {
			l.Target = "../" + l.ID + "/diff" // ResolveLink accepts only that
		}
		out = append(out, l)
	}
	return dir, out, nil
}
