package inspect

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/dlayer/dlayer/overlay2"
	"github.com/opencontainers/go-digest"
)

// Store is an opened Docker data root. It holds no open files; every
// method reads what it needs (repositories.json once).
type Store struct {
	// Root is the data root as given (e.g. /var/lib/docker, or a copy).
	Root string
	// Driver is the storage driver whose image store is read ("overlay2"
	// or "aufs").
	Driver string
	// Others are the other drivers whose image stores the root also holds
	// (a host migrated from aufs to overlay2 keeps image/aufs).
	Others []string

	graph Driver

	// repositories.json is read once per Store: Image is called per image.
	tagsOnce sync.Once
	tags     map[digest.Digest][]string
	tagsErr  error
}

// Open opens root with the driver auto picks: see OpenDriver.
func Open(root string) (*Store, error) { return OpenDriver(root, "auto") }

// OpenDriver checks that root looks like a Docker data root and returns a
// Store reading the image store of driver: "overlay2", "aufs", or "auto"
// for the one the root holds (overlay2 when it holds both). Errors name the
// path and the cause.
func OpenDriver(root, driver string) (*Store, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("data root %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("data root %s: %w: not a directory", root, ErrNotDataRoot)
	}
	present := Drivers(root)
	if driver != "auto" && NewDriver(root, driver) == nil {
		return nil, fmt.Errorf("driver %q: %w (dlayer reads %v)", driver, ErrUnsupportedDriver, KnownDrivers)
	}
	if driver == "auto" {
		if len(present) == 0 {
			return nil, fmt.Errorf("data root %s: %w: no image/overlay2 or image/aufs directory (is --root the Docker data root, e.g. /var/lib/docker?)", root, ErrNotDataRoot)
		}
		driver = present[0]
	} else if !isDir(filepath.Join(root, "image", driver)) {
		return nil, fmt.Errorf("data root %s: %w: no image/%s directory (the root holds %v)", root, ErrNotDataRoot, driver, present)
	}
	s := &Store{Root: root, Driver: driver, graph: NewDriver(root, driver)}
	for _, d := range present {
		if d != driver {
			s.Others = append(s.Others, d)
		}
	}
	return s, nil
}

// Drivers lists the known drivers whose image store (image/<driver>) root
// holds, in KnownDrivers order.
func Drivers(root string) []string {
	var out []string
	for _, d := range KnownDrivers {
		if isDir(filepath.Join(root, "image", d)) {
			out = append(out, d)
		}
	}
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// imageDir is image/<driver>.
func (s *Store) imageDir(elem ...string) string {
	return filepath.Join(append([]string{s.Root, "image", s.Driver}, elem...)...)
}

// Overlay returns the overlay2 driver home of the root (whichever driver
// the store reads).
func (s *Store) Overlay() overlay2.Home { return overlay2.Home{Dir: filepath.Join(s.Root, "overlay2")} }

// Graph returns the store's storage driver.
func (s *Store) Graph() Driver { return s.graph }
