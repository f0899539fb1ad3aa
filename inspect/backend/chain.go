package backend

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/opencontainers/go-digest"
)

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
