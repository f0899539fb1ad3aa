package inspect

import (
	"errors"
	"os"
	"path/filepath"
	"sort"

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

// LayerChainIDs lists layerdb/sha256/: the chain IDs of the entries whose
// names are 64 hex digits, and, separately, every other name found there
// (in-flight "<hex>-<random>-removing" deletions and strays), sorted.
func (s *Store) LayerChainIDs() (chains []digest.Digest, other []string, err error) {
	ents, err := os.ReadDir(s.imageDir("layerdb", "sha256"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		if isHex64(e.Name()) && e.IsDir() {
			chains = append(chains, digest.NewDigestFromEncoded(digest.SHA256, e.Name()))
		} else {
			other = append(other, e.Name())
		}
	}
	sort.Strings(other)
	return chains, other, nil
}

// MountContainerIDs lists layerdb/mounts/: the containers that have an rw
// layer, sorted.
func (s *Store) MountContainerIDs() ([]string, error) {
	ents, err := os.ReadDir(s.imageDir("layerdb", "mounts"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		ids = append(ids, e.Name())
	}
	sort.Strings(ids)
	return ids, nil
}
