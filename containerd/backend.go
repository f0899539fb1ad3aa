package containerd

import (
	"os"
	"path/filepath"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

// Name is the store's driver name as Docker writes it in config.v2.json
// "Driver" and /info "Driver": the snapshotter's.
const Name backend.Name = "overlayfs"

// DefaultNamespace is the containerd namespace dockerd keeps its objects in.
const DefaultNamespace = "moby"

// OtherSnapshotters are the containerd snapshotters Docker's containerd
// store can use that dlayer recognizes but does not read: a store of one
// is detected (by its rootfs/<name> dir) and every read says so by name.
func OtherSnapshotters() []string {
	return []string{"native", "btrfs", "zfs", "erofs", "blockfile", "stargz", "devmapper", "fuse-overlayfs"}
}

// Config says where the containerd side of a store is.
type Config struct {
	// Root is containerd's root dir; "" derives it from the data root
	// (DefaultRoot).
	Root string
	// Namespace is dockerd's containerd namespace; "" is DefaultNamespace.
	Namespace string
}

// New returns the backend for main to register.
func New(c Config) backend.Backend {
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	return ctrBackend{c}
}

type ctrBackend struct{ c Config }

func (b ctrBackend) Name() backend.Name { return Name }

// config is b's config with the containerd root of data root root filled.
func (b ctrBackend) config(root string) Config {
	c := b.c
	if c.Root == "" {
		c.Root = DefaultRoot(root)
	}
	return c
}

// Detect: the containerd root holds meta.db and the data root either has
// no graph driver's image store or keeps a rootfs/<snapshotter> dir (a
// host upgraded to Docker 29 holds both stores); or the data root has that
// dir and the containerd root is missing (then every read says so, naming
// --containerd-root).
func (b ctrBackend) Detect(root string, o layerfs.Opener) bool {
	o = layerfs.OrOS(o)
	c := b.config(root)
	rootfs := false
	for _, n := range append([]string{string(Name)}, OtherSnapshotters()...) {
		rootfs = rootfs || isDir(o, filepath.Join(root, "rootfs", n))
	}
	if c.Root == "" {
		return rootfs
	}
	if fi, err := o.Lstat(filepath.Join(c.Root, "io.containerd.metadata.v1.bolt", "meta.db")); err != nil || !fi.Mode().IsRegular() {
		return rootfs
	}
	return rootfs || !hasGraphStore(o, root)
}

// Open binds the backend to data root root.
func (b ctrBackend) Open(root string, o layerfs.Opener) backend.Driver {
	c := b.config(root)
	l := &loader{c: c, o: layerfs.OrOS(o)}
	return driver{root: root, l: l, meta: &metadata{l: l, root: root}}
}

// DefaultRoot is the containerd root of a store whose data root is root:
// <root>/containerd/daemon when dockerd ran its own containerd, else the
// containerd dir beside the data root (/var/lib/containerd for
// /var/lib/docker; <image>/var/lib/containerd for a mounted disk image's
// <image>/var/lib/docker). It is derived from root, never from the live
// host: "" when neither exists.
func DefaultRoot(root string) string {
	root = filepath.Clean(root)
	// Below the data root: no component may be a symlink (the data
	// root's opener reads it, and refuses one anyway).
	own := filepath.Join(root, "containerd", "daemon")
	if realDir(filepath.Join(root, "containerd")) && realDir(own) {
		return own
	}
	beside := filepath.Join(filepath.Dir(root), "containerd")
	if fi, err := os.Stat(beside); err == nil && fi.IsDir() {
		return beside
	}
	return ""
}

func isDir(o layerfs.Opener, p string) bool {
	fi, err := o.Lstat(p)
	return err == nil && fi.IsDir()
}

// hasGraphStore reports whether image/ holds a graph driver's store (a
// dir; the containerd store keeps only identity-cache.db there).
func hasGraphStore(o layerfs.Opener, root string) bool {
	ents, err := o.ReadDir(filepath.Join(root, "image"))
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.IsDir() {
			return true
		}
	}
	return false
}

// realDir reports whether p is a directory, not a symlink to one.
func realDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}
