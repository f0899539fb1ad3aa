package inspect

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerdb"
	"github.com/opencontainers/go-digest"
)

// Layer is one image layer of the store.
type Layer = backend.Layer

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

func (s *Store) layerDir(chain digest.Digest) string { return s.meta.LayerPath(chain) }

// Layer reads the record of a chain ID (once per Store). Each file is
// validated (digests parse, size is a decimal number).
func (s *Store) Layer(chain digest.Digest) (Layer, error) { return s.meta.Layer(chain) }

func validID(id string) bool { return layerdb.ValidID(id) }
