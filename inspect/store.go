package inspect

import (
	"errors"
	"fmt"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
)

// DriverAuto asks Open for the driver the root holds.
const DriverAuto = "auto"

// Store is an opened Docker data root, read through one storage backend.
// Its metadata (layers, images, tags, container configs and mount records)
// is read once, on first use, and kept: every feature of one command
// shares one read. A Store holds no open files.
type Store struct {
	// Root is the data root as given (e.g. /var/lib/docker, or a copy).
	Root string
	// Driver is the storage driver whose image store is read.
	Driver string
	// Others are the other drivers whose image stores the root also holds
	// (a host migrated from aufs to overlay2 keeps image/aufs).
	Others []string

	reg      *backend.Registry
	fs       layerfs.Opener
	graph    backend.Driver
	meta     *metaCache
	siblings map[backend.Name]*Store
	shared   *sharedCache
	priv     layerfs.Privilege
	stack    stackMemo
}

// Open checks that root looks like a Docker data root and returns a Store
// reading the image store of driver: a registered backend's name, or
// DriverAuto (or "") for the one the root holds (the registry's first
// when it holds several). Errors name the path and the cause.
func Open(root string, reg *backend.Registry, driver string) (*Store, error) {
	return OpenWith(root, Options{Backends: reg, Driver: driver})
}

// Options say how to open a data root.
type Options struct {
	// Backends are the storage backends to read (main's registry).
	Backends *backend.Registry
	// Driver is a registered backend's name, or DriverAuto (or "").
	Driver string
	// FS reads every metadata file under the root; nil reads the
	// machine's file system (layerfs.OS).
	FS layerfs.Opener
	// Privilege is what this process can see; nil reads it from
	// /proc/self (layerfs.ProcessPrivilege).
	Privilege *layerfs.Privilege
}

// OpenWith is Open with every option.
func OpenWith(root string, o Options) (*Store, error) {
	reg, driver, fsys := o.Backends, o.Driver, layerfs.OrOS(o.FS)
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("data root %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("data root %s: %w: not a directory", root, ErrNotDataRoot)
	}
	if driver == "" {
		driver = DriverAuto
	}
	present := reg.Present(root, fsys)
	name := backend.Name(driver)
	if driver == DriverAuto {
		if len(present) == 0 {
			return nil, notDataRoot(root, reg, fsys)
		}
		name = present[0]
	} else if _, ok := reg.Lookup(name); !ok {
		return nil, fmt.Errorf("driver %q: %w (dlayer reads %s)", driver, ErrUnsupportedDriver, reg)
	} else if !hasName(present, name) {
		return nil, fmt.Errorf("data root %s: %w: no image/%s directory (the root holds %v)", root, ErrNotDataRoot, driver, present)
	}
	shared := &sharedCache{root: root, fs: fsys}
	var seen layerfs.Privilege
	if o.Privilege != nil {
		seen = *o.Privilege
	} else {
		seen = layerfs.ProcessPrivilege()
	}
	stores := map[backend.Name]*Store{}
	for _, n := range present {
		b, _ := reg.Lookup(n)
		g := b.Open(root, fsys)
		stores[n] = &Store{Root: root, Driver: string(n), reg: reg, fs: fsys, graph: g, meta: newMetaCache(g.Metadata()), shared: shared, siblings: stores, priv: seen}
	}
	for n, o := range stores {
		o.Others = without(present, n)
	}
	return stores[name], nil
}

// notDataRoot says why root is not a store dlayer reads: unreadable, a
// store of a Docker older than 1.10, a store of a driver dlayer does not
// read, or no Docker store at all.
func notDataRoot(root string, reg *backend.Registry, o layerfs.Opener) error {
	if _, err := o.ReadDir(root); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("data root %s: %w (reading a Docker data root needs root)", root, err)
		}
		return fmt.Errorf("data root %s: %w", root, err)
	}
	ents, err := o.ReadDir(filepath.Join(root, "image"))
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("data root %s: %w (reading a Docker data root needs root)", filepath.Join(root, "image"), err)
	}
	var others []string
	for _, e := range ents {
		if e.IsDir() {
			others = append(others, e.Name())
		}
	}
	if len(others) > 0 {
		return fmt.Errorf("data root %s: %w: it holds a %s store (image/%s), which dlayer does not read (it reads %s)",
			root, ErrUnsupportedDriver, strings.Join(others, " and a "), strings.Join(others, ", image/"), reg)
	}
	if fi, err := o.Lstat(filepath.Join(root, "graph")); err == nil && fi.IsDir() {
		return fmt.Errorf("data root %s: %w: a Docker < 1.10 store (graph/, no image/<driver>/layerdb): dlayer reads the content-addressed stores of Docker 1.10 and later", root, ErrUnsupportedDriver)
	}
	var dirs []string
	for _, n := range reg.Names() {
		dirs = append(dirs, "image/"+string(n))
	}
	return fmt.Errorf("data root %s: %w: no %s directory (is --root the Docker data root, e.g. /var/lib/docker?)", root, ErrNotDataRoot, strings.Join(dirs, " or "))
}

// Sibling returns the store of another driver the root holds (one of
// Others), sharing this store's reads of the root; ok is false when the
// root holds no such store.
func (s *Store) Sibling(name backend.Name) (*Store, bool) {
	o, ok := s.siblings[name]
	return o, ok
}

// ForDriver returns the store that reads containers made with driver: s
// itself, a sibling, or s when the root holds no store of that driver.
func (s *Store) ForDriver(name string) *Store {
	if o, ok := s.siblings[backend.Name(name)]; ok {
		return o
	}
	return s
}

// driverNamed returns the registered driver called name bound to the
// root, whether or not the root holds its store (a mount may name a
// driver dir of a store whose metadata is gone).
func (s *Store) driverNamed(name string) (backend.Driver, bool) {
	if o, ok := s.siblings[backend.Name(name)]; ok {
		return o.graph, true
	}
	b, ok := s.reg.Lookup(backend.Name(name))
	if !ok {
		return nil, false
	}
	return b.Open(s.Root, s.fs), true
}

// Stores returns the store of every driver the root holds, this one
// first, then the others in the registry's order; they share one read of
// the containers.
func (s *Store) Stores() []*Store {
	out := []*Store{s}
	for _, n := range s.reg.Names() {
		if o, ok := s.siblings[n]; ok && o != s {
			out = append(out, o)
		}
	}
	return out
}

// Drivers returns every registered driver bound to the root, the store's
// own first, whether or not the root holds its store (a mount or a path
// may name a driver dir whose metadata is gone).
func (s *Store) Drivers() []backend.Driver {
	out := []backend.Driver{s.graph}
	for _, n := range s.reg.Names() {
		if string(n) != s.Driver {
			d, _ := s.driverNamed(string(n))
			out = append(out, d)
		}
	}
	return out
}

func hasName(ns []backend.Name, n backend.Name) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

func without(ns []backend.Name, n backend.Name) []string {
	var out []string
	for _, x := range ns {
		if x != n {
			out = append(out, string(x))
		}
	}
	return out
}

// imageDir is where the store's metadata lives (image/<driver>).
func (s *Store) imageDir(elem ...string) string { return s.meta.src.Path(elem...) }

// Graph returns the store's storage driver.
func (s *Store) Graph() backend.Driver { return s.graph }

// Metadata returns the store's metadata, read once and kept.
func (s *Store) Metadata() backend.Metadata { return s.meta }

// Home returns the driver's directory under the data root.
func (s *Store) Home() string { return s.graph.Home() }

// DirRecords returns the store's own record of its layer dirs when its
// metadata keeps one (backend.DirRecords).
func (s *Store) DirRecords() (backend.DirRecords, bool) {
	r, ok := s.meta.src.(backend.DirRecords)
	return r, ok
}

// Blobs returns the store's content blobs when its metadata keeps them
// apart (backend.Blobs).
func (s *Store) Blobs() (backend.Blobs, bool) {
	b, ok := s.meta.src.(backend.Blobs)
	return b, ok
}

// StoreTree returns the store's own tree beside the data root when its
// metadata keeps one (backend.StoreTree: containerd's root).
func (s *Store) StoreTree() (backend.StoreTree, bool) {
	t, ok := s.meta.src.(backend.StoreTree)
	return t, ok
}

// EngineSizes returns the store's own rules for Docker's numbers when its
// metadata has them (backend.EngineSizes: containerd's image store).
func (s *Store) EngineSizes() (backend.EngineSizes, bool) {
	e, ok := s.meta.src.(backend.EngineSizes)
	return e, ok
}

// FS is the opener every read under the root goes through.
func (s *Store) FS() layerfs.Opener { return s.fs }

// Terms are the store's driver's words for what it stores.
func (s *Store) Terms() backend.Terms { return s.graph.Terms() }
