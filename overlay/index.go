package overlay

import (
	"fmt"
	"sync"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerdb"
	"github.com/opencontainers/go-digest"
)

// index is the store's layers as the driver needs them: nothing on disk
// records an image layer's parent (ApplyDiff removes the lower-id it was
// created with), so the layer chain comes from layerdb. It reads each
// layer record once and serves the driver's Metadata from the same
// reads, so a command reads every layerdb file at most once.
type index struct {
	src *layerdb.Store

	mu      sync.Mutex
	ids     *idsResult
	layers  map[digest.Digest]layerResult
	byCache map[string]digest.Digest // built once every layer was read
}

type idsResult struct {
	chains []digest.Digest
	other  []string
	err    error
}

type layerResult struct {
	l   backend.Layer
	err error
}

func newIndex(src *layerdb.Store) *index {
	return &index{src: src, layers: map[digest.Digest]layerResult{}}
}

func (x *index) layerIDs() ([]digest.Digest, []string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.loadIDs()
	return r.chains, r.other, r.err
}

func (x *index) loadIDs() *idsResult {
	if x.ids == nil {
		c, o, err := x.src.LayerIDs()
		x.ids = &idsResult{c, o, err}
	}
	return x.ids
}

func (x *index) layer(chain digest.Digest) (backend.Layer, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.loadLayer(chain)
	return r.l, r.err
}

func (x *index) loadLayer(chain digest.Digest) layerResult {
	r, ok := x.layers[chain]
	if !ok {
		l, err := x.src.Layer(chain)
		r = layerResult{l, err}
		x.layers[chain] = r
	}
	return r
}

// cacheIndex maps cache-ids to chain IDs, reading every layer once.
// Unreadable records are left out (the core reports them).
func (x *index) cacheIndex() map[string]digest.Digest {
	if x.byCache != nil {
		return x.byCache
	}
	x.byCache = map[string]digest.Digest{}
	for _, c := range x.loadIDs().chains {
		r := x.loadLayer(c)
		if r.err != nil || r.l.CacheID == "" {
			continue
		}
		if _, dup := x.byCache[r.l.CacheID]; !dup {
			x.byCache[r.l.CacheID] = c
		}
	}
	return x.byCache
}

// isImageLayer reports whether a layer record names dir id.
func (x *index) isImageLayer(id string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	_, ok := x.cacheIndex()[id]
	return ok
}

// parent returns the cache-id of the image layer below dir id; ok is
// false for a base layer and for a dir no readable layer record names.
func (x *index) parent(id string) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	chain, ok := x.cacheIndex()[id]
	if !ok {
		return "", false
	}
	l := x.loadLayer(chain).l
	if l.Parent == "" {
		return "", false
	}
	p := x.loadLayer(l.Parent)
	if p.err != nil || p.l.CacheID == "" {
		return "", false
	}
	return p.l.CacheID, true
}

// below lists the image layers under dir id, nearest first, as the layer
// chain says (Content left to the caller); an entry whose record cannot
// be read carries the error and ends the list. Nothing when no layer
// record names id.
func (x *index) below(id string) []backend.Lower {
	x.mu.Lock()
	defer x.mu.Unlock()
	chain, ok := x.cacheIndex()[id]
	if !ok {
		return nil
	}
	var out []backend.Lower
	seen := map[digest.Digest]bool{chain: true}
	for l := x.loadLayer(chain).l; l.Parent != ""; {
		if seen[l.Parent] {
			out = append(out, backend.Lower{Ref: string(l.Parent), Err: fmt.Errorf("layer %s: %w: the layer chain loops", l.Parent, backend.ErrMalformed)})
			break
		}
		seen[l.Parent] = true
		r := x.loadLayer(l.Parent)
		if r.err != nil {
			out = append(out, backend.Lower{Ref: string(l.Parent), Err: r.err})
			break
		}
		out = append(out, backend.Lower{Ref: r.l.CacheID, ID: r.l.CacheID})
		l = r.l
	}
	return out
}

// metadata is the driver's backend.Metadata: layerdb, with the layer
// records read through the index.
type metadata struct {
	*layerdb.Store
	ix *index
}

var _ backend.Metadata = metadata{}

// LayerIDs lists layerdb/sha256/, once.
func (m metadata) LayerIDs() ([]digest.Digest, []string, error) { return m.ix.layerIDs() }

// Layer reads one layer record, once.
func (m metadata) Layer(chain digest.Digest) (backend.Layer, error) { return m.ix.layer(chain) }
