package inspect

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// Layer is one entry of layerdb: image/<driver>/layerdb/sha256/<chain>/.
type Layer struct {
	ChainID digest.Digest `json:"chain_id"`
	DiffID  digest.Digest `json:"diff_id"`
	// Parent is the parent layer's chain ID; empty for a base layer.
	Parent digest.Digest `json:"parent,omitempty"`
	// CacheID names the driver directory holding the content.
	CacheID string `json:"cache_id"`
	// Size is the layerdb "size" file: Docker's content size of the layer.
	Size int64 `json:"size"`
}

// ChainID computes the chain ID of a layer from its parent's chain ID
// (empty for a base layer) and its diff ID: ChainID(L0) = DiffID(L0);
// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
func ChainID(parent, diff digest.Digest) digest.Digest {
	if parent == "" {
		return diff
	}
	sum := sha256.Sum256([]byte(string(parent) + " " + string(diff)))
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:]))
}

// ChainIDs computes the chain IDs of a list of diff IDs, base first.
func ChainIDs(diffs []digest.Digest) []digest.Digest {
	out := make([]digest.Digest, len(diffs))
	var parent digest.Digest
	for i, d := range diffs {
		parent = ChainID(parent, d)
		out[i] = parent
	}
	return out
}

func (s *Store) layerDir(chain digest.Digest) string {
	return s.imageDir("layerdb", string(chain.Algorithm()), chain.Encoded())
}

// Layer reads the layerdb entry of a chain ID. The directory must exist;
// each file is validated (digests parse, size is a decimal number).
func (s *Store) Layer(chain digest.Digest) (Layer, error) {
	if err := chain.Validate(); err != nil {
		return Layer{}, fmt.Errorf("chain ID %q: %w", chain, err)
	}
	dir := s.layerDir(chain)
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Layer{}, fmt.Errorf("layer %s: %w: no directory %s", chain, ErrNotFound, dir)
		}
		return Layer{}, err
	}
	l := Layer{ChainID: chain}
	var err error
	if l.DiffID, err = readDigest(filepath.Join(dir, "diff")); err != nil {
		return l, err
	}
	if l.Parent, err = readDigest(filepath.Join(dir, "parent")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return l, err
	}
	p := filepath.Join(dir, "cache-id")
	if l.CacheID, err = layerfs.ReadSmallFile(p, 4096); err != nil {
		return l, err
	}
	if !validID(l.CacheID) {
		return l, fmt.Errorf("%s: %w: %q is not a directory name", p, ErrMalformed, l.CacheID)
	}
	p = filepath.Join(dir, "size")
	sz, err := layerfs.ReadSmallFile(p, 64)
	if err != nil {
		return l, err
	}
	if l.Size, err = strconv.ParseInt(sz, 10, 64); err != nil || l.Size < 0 {
		return l, fmt.Errorf("%s: %w: size %q is not a decimal byte count", p, ErrMalformed, sz)
	}
	return l, nil
}

// readDigest reads a file holding one digest ("sha256:<64 hex>").
func readDigest(path string) (digest.Digest, error) {
	s, err := layerfs.ReadSmallFile(path, 1024)
	if err != nil {
		return "", err
	}
	d, err := digest.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w: %q: %v", path, ErrMalformed, s, err)
	}
	return d, nil
}

func validID(id string) bool {
	if id == "" || id == "." || id == ".." || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] == '/' || id[i] == 0 {
			return false
		}
	}
	return true
}
