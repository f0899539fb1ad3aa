package containerd

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/mountinfo"
	"github.com/dlayer/dlayer/overlayfs"
)

// driver is the backend bound to one data root and its containerd root.
type driver struct {
	root string
	l    *loader
	meta *metadata
}

func (d driver) Name() backend.Name         { return Name }
func (d driver) Home() string               { return d.l.snapHome() }
func (d driver) Format() layerfs.Format     { return overlayfs.Format{} }
func (d driver) Metadata() backend.Metadata { return d.meta }

// snapDir is the dir of snapshot id: <home>/snapshots/<id>.
func (d driver) snapDir(id string) string { return filepath.Join(d.Home(), "snapshots", id) }

// Layout: a layer dir id is a snapshot's number; its content is fs/, its
// work dir work/; a container's rootfs is mounted at
// <data root>/rootfs/overlayfs/<container ID>.
func (d driver) Layout(id string) backend.Layout {
	dir := d.snapDir(id)
	x := backend.Layout{Dir: dir, Content: filepath.Join(dir, "fs"), Work: filepath.Join(dir, "work"),
		Parents: filepath.Join(d.Home(), "metadata.db")}
	if s, ok := d.snapshot(id); ok && isContainerKey(s.Key) {
		x.Merged = filepath.Join(d.root, "rootfs", string(Name), s.Key)
	}
	return x
}

// snapshot returns the snapshot whose dir is snapshots/<id>.
func (d driver) snapshot(id string) (*Snapshot, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil, false
	}
	ix, err := d.l.get()
	if err != nil {
		return nil, false
	}
	s, ok := ix.byID[n]
	return s, ok
}

// Link: snapshots have no short names.
func (d driver) Link(string) (string, error) { return "", nil }

// Lowers are the snapshot's parent chain, nearest first, as metadata.db
// and meta.db record it: what the snapshotter mounts below it. A
// classic-builder build container's init snapshot, which RUN layers sit
// on, is in the chain but is no image layer: it is marked Unowned.
func (d driver) Lowers(id string) ([]backend.Lower, bool, error) {
	ix, err := d.l.get()
	if err != nil {
		return nil, false, err
	}
	s, ok := d.snapshot(id)
	if !ok {
		return nil, false, fmt.Errorf("snapshot dir %s: %w: no snapshot of namespace %s has it", d.snapDir(id), backend.ErrNotFound, d.l.c.Namespace)
	}
	var out []backend.Lower
	for _, p := range ix.chainOf(s) {
		lw := backend.Lower{Ref: p.Key}
		if p.ID == 0 {
			lw.Err = fmt.Errorf("%s: %w: parent snapshot %q of %q has no record", d.Layout(id).Parents, backend.ErrNotFound, p.Key, s.Key)
		} else {
			lw.ID = strconv.FormatUint(p.ID, 10)
			lw.Content = d.Layout(lw.ID).Content
			lw.Unowned = strings.HasSuffix(p.Key, "-init") && p.Key != s.Key+"-init"
		}
		out = append(out, lw)
	}
	return out, s.Parent != "", nil
}

// MountLowers: the snapshotter mounts every snapshot of the chain.
func (d driver) MountLowers(id string) ([]backend.Lower, bool, error) { return d.Lowers(id) }

func (d driver) Terms() backend.Terms {
	return backend.Terms{Union: "overlay mount", Upper: "upper dir", Lowers: "snapshot chain", WorkDir: true, TrustedMarkers: true,
		HasContentSubdir: true,
		Stacking: "containerd's overlayfs snapshotter stacks the read-only snapshots of a chain under one writable snapshot " +
			"and shows the union at the container's rootfs",
		DirsHelp: "upper: the container snapshot's fs/, where every write lands; work: overlayfs scratch space;\n" +
			"merged: <data root>/rootfs/overlayfs/<container>, present while it is mounted",
		LowersFrom:   "from the snapshot parents recorded in containerd's meta.db and the snapshotter's metadata.db",
		LowersHelp:   "each is a snapshot's fs/: the container's -init, then the image's layers (and any build container's -init a classic RUN step sits on)",
		LayerDirHelp: "fs/ holds the snapshot's files, work/ overlayfs's scratch space; its name is the snapshotter's number for it.",
		ContentHelp:  "A snapshot's fs/ holds only what that layer changed.",
		MountIDFrom:  "the number of the snapshot keyed by the container ID: snapshots/<n>",
		// a committed snapshot's recorded size, and a container's SizeRw,
		// are the snapshotter's Usage of fs/ (docs/facts.md "Its sizes")
		LayerSize: backend.SizeUsage, RWSize: backend.SizeUsage,
	}
}

// ParsePath reads a path below the snapshotter's dir: metadata.db,
// snapshots/, snapshots/<n>[/fs/…|/work/…].
func (d driver) ParsePath(p []string) backend.Path {
	switch {
	case len(p) == 0:
		return backend.Path{Kind: backend.PathDriverHome}
	case p[0] != "snapshots" || len(p) == 1:
		return backend.Path{Kind: backend.PathDriverBookkeeping, ID: p[0], Rel: p[1:]}
	case len(p) == 2:
		return backend.Path{Kind: backend.PathLayerDir, ID: p[1]}
	}
	return backend.LayerSubdirs{Content: []string{"fs"}, Work: "work"}.Sub(p[1], p[2], p[3:])
}

func (d driver) Bookkeeping(name string) (string, bool) {
	switch name {
	case "metadata.db":
		return "the snapshotter's bolt database: each snapshot's number (its snapshots/<n> dir), kind, parent and size", true
	case "snapshots":
		return "the snapshot dirs, snapshots/<n>/{fs,work}", true
	}
	return "", false
}

func (d driver) ShortLink(string) (string, string, error) { return "", "", backend.ErrNoShortLinks }
func (d driver) IsShortLink(string) bool                  { return false }

// DecodeMount decodes an overlay mount whose upper or lower dirs are
// snapshot dirs of this root (absolute: the snapshotter never writes
// relative forms).
func (d driver) DecodeMount(m mountinfo.Mount, home, _ string) (backend.MountDirs, *backend.MountProblem, bool) {
	var md backend.MountDirs
	if !d.MountsFSType(m) {
		return md, nil, false
	}
	ov, err := m.Overlay()
	if err != nil {
		return md, nil, false // another driver's, or one its own decoder reports
	}
	if ov.Relative() {
		return md, nil, false
	}
	if home == "" {
		home = d.Home()
	}
	mine := func(p string) bool { return strings.HasPrefix(filepath.Clean(p), filepath.Join(home, "snapshots")+"/") }
	ours := ov.UpperDir != "" && mine(ov.UpperDir)
	for _, x := range ov.LowerDirs {
		ours = ours || mine(x)
	}
	if !ours {
		return md, nil, false
	}
	return backend.OverlayMountDirs(ov), nil, true
}

// MountsFSType: the snapshotter mounts overlay.
func (d driver) MountsFSType(m mountinfo.Mount) bool { return m.FSType == "overlay" }

// ValidID: a snapshot's number.
func (d driver) ValidID(id string) bool {
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil && id != "0"
}

func (d driver) LinkFile(string) string   { return "" }
func (d driver) LinkTarget(string) string { return "" }

// LowerRef: a snapshot's parent chain names it by its key, as Lowers does.
func (d driver) LowerRef(id, _ string) string {
	if s, ok := d.snapshot(id); ok {
		return s.Key
	}
	return id
}
func (d driver) BaseParents() bool { return false }

// Markers: a snapshot's fs/ holds a layer as overlay2's diff/ does.
func (d driver) Markers() backend.Markers { return overlayfs.Markers{} }

// HomeLayout: snapshots/<n> is one layer dir, its files in fs/.
func (d driver) HomeLayout() backend.HomeLayout {
	return backend.HomeLayout{LayerDirs: []backend.LayerDir{{Rel: "snapshots", Content: true, ContentSubdir: "fs"}}, Bookkeeping: "metadata.db"}
}

func (d driver) ShortLinks() (string, []backend.ShortLinkEntry, error) {
	return "", nil, backend.ErrNoShortLinks
}
