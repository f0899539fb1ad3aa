package inspect

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/overlay2"
	"github.com/opencontainers/go-digest"
)

// Store is an opened Docker data root. It holds no open files; every
// method reads what it needs (repositories.json once).
type Store struct {
	// Root is the data root as given (e.g. /var/lib/docker, or a copy).
	Root string
	// Driver is the storage driver whose image store is read ("overlay2").
	Driver string

	overlay overlay2.Home
	format  layerfs.Format

	// repositories.json is read once per Store: Image is called per image.
	tagsOnce sync.Once
	tags     map[digest.Digest][]string
	tagsErr  error
}

// Open checks that root looks like a Docker data root and returns a Store.
// Errors name the path and the cause.
func Open(root string) (*Store, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("data root %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("data root %s: %w: not a directory", root, ErrNotDataRoot)
	}
	s := &Store{Root: root, overlay: overlay2.Home{Dir: filepath.Join(root, "overlay2")}, format: overlay2.Format{}}
	switch {
	case isDir(filepath.Join(root, "image", "overlay2")):
		s.Driver = "overlay2"
	case isDir(filepath.Join(root, "image", "aufs")):
		return nil, fmt.Errorf("data root %s: %w: aufs (image/aufs) is not supported yet", root, ErrUnsupportedDriver)
	default:
		return nil, fmt.Errorf("data root %s: %w: no image/overlay2 directory (is --root the Docker data root, e.g. /var/lib/docker?)", root, ErrNotDataRoot)
	}
	return s, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// imageDir is image/<driver>.
func (s *Store) imageDir(elem ...string) string {
	return filepath.Join(append([]string{s.Root, "image", s.Driver}, elem...)...)
}

// Overlay returns the overlay2 driver home of the store.
func (s *Store) Overlay() overlay2.Home { return s.overlay }

// Format returns how the store's layer directories are read.
func (s *Store) Format() layerfs.Format { return s.format }
