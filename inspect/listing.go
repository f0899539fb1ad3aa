package inspect

import (
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// Path joins elem to the data root.
func (s *Store) Path(elem ...string) string {
	return filepath.Join(append([]string{s.Root}, elem...)...)
}

// ImagePath joins elem to image/<driver> (the image and layer stores).
func (s *Store) ImagePath(elem ...string) string { return s.imageDir(elem...) }

// LayerPath is the layerdb directory of a chain ID.
func (s *Store) LayerPath(chain digest.Digest) string { return s.layerDir(chain) }

// LayerChainIDs lists the store's layers: their chain IDs and, apart,
// every other name found among them (in-flight "<hex>-<random>-removing"
// deletions and strays), sorted.
func (s *Store) LayerChainIDs() (chains []digest.Digest, other []string, err error) {
	return s.meta.LayerIDs()
}

// MountContainerIDs lists the containers that have an rw layer, sorted.
func (s *Store) MountContainerIDs() ([]string, error) { return s.meta.MountIDs() }
