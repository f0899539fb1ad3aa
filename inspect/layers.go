package inspect

import (
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerdb"
	"github.com/opencontainers/go-digest"
)

// Layer is one image layer of the store.
type Layer = backend.Layer

// ChainID is backend.ChainID: the chain ID of a layer from its parent's
// chain ID and its diff ID.
func ChainID(parent, diff digest.Digest) digest.Digest { return backend.ChainID(parent, diff) }

// ChainIDs is backend.ChainIDs: the chain IDs of diff IDs, base first.
func ChainIDs(diffs []digest.Digest) []digest.Digest { return backend.ChainIDs(diffs) }

func (s *Store) layerDir(chain digest.Digest) string { return s.meta.LayerPath(chain) }

// Layer reads the record of a chain ID (once per Store). Each file is
// validated (digests parse, size is a decimal number).
func (s *Store) Layer(chain digest.Digest) (Layer, error) { return s.meta.Layer(chain) }

func validID(id string) bool { return layerdb.ValidID(id) }
