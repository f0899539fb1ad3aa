package aufs

import (
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerdb"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/mountinfo"
)

// Name is the driver's name.
const Name backend.Name = "aufs"

// New returns the aufs backend, for main to register.
func New() backend.Backend { return layerdb.Backend(Name, open) }

// open binds the backend to root, reading it through o.
func open(root string, o layerfs.Opener) backend.Driver {
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

// MountLowers: aufs mounts every layer its layers file lists, as
// read-only branches.
func (d driver) MountLowers(id string) ([]backend.Lower, bool, error) { return d.Lowers(id) }

func (d driver) Terms() backend.Terms {
	return backend.Terms{Union: "union mount", Upper: "rw branch", Lowers: "layers file", WhiteoutFiles: true,
		Stacking: "aufs stacks read-only branches, one aufs/diff/<id> per lower layer, under one writable branch\n" +
			" and shows the union at aufs/mnt/<mount-id>",
		DirsHelp: "upper: the writable branch, every write of the container lands here;\n" +
			"merged: the container's root file system, present while it is mounted",
		LowersFrom:   "as aufs/layers/<mount-id> lists them",
		LowersHelp:   "aufs/layers/<id> names each layer below, one per line; its files are aufs/diff/<id>",
		LayerDirHelp: "aufs/diff/<id> holds the layer's files, aufs/layers/<id> names the layers below it, aufs/mnt/<id> is its mount point.",
		ContentHelp:  "A layer's aufs/diff/<id> holds only what that layer changed.",
		KindHelp: map[string]string{
			"modified": "Modified: a copy of a file from a read-only lower layer, changed afterwards. " +
				"aufs never edits lower branches: the first write (or chmod, chown, touch) copies the whole file " +
				"up into the writable branch (copy-on-write), and the copy now differs in what is listed.",
			"whiteout": "Whiteout: a deletion. A lower layer cannot be changed, so deleting one of its entries puts an " +
				"empty file named .wh.<name> next to it in the writable branch (aufs hard-links them all to the branch's " +
				".wh..wh.aufs) that hides it. The lower file still uses its space in the image.",
			"opaque": "Opaque dir: a dir holding the empty file .wh..wh..opq hides everything below it in lower layers, " +
				"as happens when a dir is deleted and created again (rm -rf d; mkdir d). Only what the writable branch holds is visible.",
		},
	}
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
	if !d.MountsFSType(m) {
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

// MountsFSType: the driver mounts its layers as aufs mounts.
func (d driver) MountsFSType(m mountinfo.Mount) bool { return m.FSType == "aufs" }

// verify:

func (d driver) ValidID(id string) bool { return ValidID(id) }

// LinkFile: aufs has no short links.
func (d driver) LinkFile(string) string { return "" }

// LinkTarget: aufs has no short links.
func (d driver) LinkTarget(string) string { return "" }

// LowerRef: a layers file names each layer by its id.
func (d driver) LowerRef(id, _ string) string { return id }

// BaseParents: a base layer has an empty layers file.
func (d driver) BaseParents() bool { return true }

func (d driver) Markers() backend.Markers { return markers{} }

// markers: aufs keeps a layer tar's .wh. files as they are
// (Terms().WhiteoutFiles), and its own .wh..wh. files at a branch root.
type markers struct{}

func (markers) Xattrs() []string                              { return nil }
func (markers) Whiteout(layerfs.Stat, map[string][]byte) bool { return false }
func (markers) Opaque(map[string][]byte) (string, bool)       { return "", false }
func (markers) Forms() (whiteout, opaque string) {
	return WhiteoutPrefix + "<name> file", OpaqueMarker + " file"
}

// RootFile: .wh..wh.aufs, .wh..wh.plnk, .wh..wh.orph (moby aufs), but
// not the opaque marker, which is the layer's.
func (markers) RootFile(name string) bool {
	return strings.HasPrefix(name, MetaPrefix) && name != OpaqueMarker
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
