package aufs

import (
	"path/filepath"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerdb"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/mountinfo"
)

// Name is the driver's name.
const Name backend.Name = "aufs"

// New returns the aufs backend, for main to register.
func New() backend.Backend { return driverBackend{} }

type driverBackend struct{}

func (driverBackend) Name() backend.Name { return Name }

// Detect: the image store image/aufs is a directory.
func (driverBackend) Detect(root string, o layerfs.Opener) bool {
	fi, err := o.Lstat(filepath.Join(root, "image", string(Name)))
	return err == nil && fi.IsDir()
}

func (driverBackend) Open(root string, o layerfs.Opener) backend.Driver {
	return driver{h: Home{Dir: filepath.Join(root, string(Name)), FS: o}, meta: layerdb.New(root, Name, o)}
}

// driver is the aufs backend bound to one data root.
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
	return backend.Layout{Dir: x.Diff, Content: x.Diff, Merged: x.Mnt, Parents: x.Layers}
}

// Link: aufs has no short names.
func (d driver) Link(string) (string, error) { return "", nil }

func (d driver) Lowers(id string) ([]backend.Lower, bool, error) {
	ids, exists, err := d.h.Parents(id)
	out := make([]backend.Lower, len(ids))
	for i, p := range ids {
		out[i] = backend.Lower{Ref: p, ID: p, Content: d.h.Dirs(p).Diff}
	}
	return out, exists, err
}

func (d driver) Terms() backend.Terms {
	return backend.Terms{Union: "union mount", Upper: "rw branch", Lowers: "layers file", WhiteoutFiles: true}
}

// ParsePath reads the components of a path below the aufs home:
// diff/<id>/…, mnt/<id>/…, layers/<id>.
func (d driver) ParsePath(p []string) backend.Path {
	switch {
	case len(p) == 0:
		return backend.Path{Kind: backend.PathDriverHome}
	case len(p) == 1:
		return backend.Path{Kind: backend.PathDriverBookkeeping, ID: p[0]}
	}
	x := backend.Path{ID: p[1], Rel: p[2:]}
	switch p[0] {
	case "diff":
		x.Kind = backend.PathLayerContent
		if len(x.Rel) > 0 {
			x.Kind = backend.PathLayerEntry
		}
	case "mnt":
		x.Kind = backend.PathLayerMountpoint
		if len(x.Rel) > 0 {
			x.Kind = backend.PathMergedEntry
		}
	case "layers":
		x.Kind, x.Name = backend.PathLayerFile, "layers"
	default:
		x = backend.Path{Kind: backend.PathDriverBookkeeping, ID: p[0], Rel: p[1:]}
	}
	return x
}

// Bookkeeping: the three dirs of the aufs home.
func (d driver) Bookkeeping(name string) (string, bool) {
	switch name {
	case "diff":
		return "the driver's content dirs: diff/<id>/", true
	case "layers":
		return "the driver's parent lists: layers/<id>", true
	case "mnt":
		return "the driver's mount points: mnt/<id>/", true
	}
	return "", false
}

// ShortLink: aufs names its branches by their full ids.
func (d driver) ShortLink(string) (string, string, error) { return "", "", backend.ErrNoShortLinks }

func (d driver) IsShortLink(string) bool { return false }

// DecodeMount decodes an aufs mount's branches: from br: in the options,
// or, when mountinfo shows only si=, from sysfs under sysRoot. The first
// writable branch is the upper; the others are the lowers.
func (d driver) DecodeMount(m mountinfo.Mount, _, sysRoot string) (backend.MountDirs, *backend.MountProblem, bool) {
	var md backend.MountDirs
	if m.FSType != "aufs" {
		return md, nil, false
	}
	a, err := m.Aufs()
	if err != nil {
		return md, &backend.MountProblem{Malformed: true, Kind: "mount_options_malformed", Message: err.Error()}, true
	}
	var warn *backend.MountProblem
	if a.Branches == nil && sysRoot != "" {
		if r, err := a.ResolveSysfs(sysRoot); err != nil {
			warn = &backend.MountProblem{Kind: "aufs_branches_unknown", Message: "mountinfo shows only si=" + a.SI + " and sysfs has no branches: " + err.Error()}
		} else {
			a = r
		}
	}
	md.Branches, md.Lowers = a.Branches, []string{}
	for _, b := range a.Branches {
		if md.Upper == "" && b.Writable() {
			md.Upper = filepath.Clean(b.Path)
			continue
		}
		md.Lowers = append(md.Lowers, filepath.Clean(b.Path))
	}
	return md, warn, true
}

// du:

// HomeLayout: a layer has an entry in each of diff/ (its files), layers/
// and mnt/; nothing else belongs in the home.
func (d driver) HomeLayout() backend.HomeLayout {
	return backend.HomeLayout{
		LayerDirs:   []backend.LayerDir{{Rel: "diff", Content: true}, {Rel: "layers"}, {Rel: "mnt"}},
		Bookkeeping: "aufs/ dirs",
	}
}

// ShortLinks: aufs names its branches by their full ids.
func (d driver) ShortLinks() (string, []backend.ShortLinkEntry, error) {
	return "", nil, backend.ErrNoShortLinks
}
