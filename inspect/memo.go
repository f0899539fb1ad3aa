package inspect

import (
	"github.com/dlayer/dlayer/inspect/layerfs"
	"sync"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// metaCache keeps every answer of a store's Metadata: each layerdb,
// imagedb and repositories.json file is read at most once per Store,
// whichever features ask.
type metaCache struct {
	src backend.Metadata

	mu        sync.Mutex
	layerIDs  *result[layerIDs]
	layers    map[digest.Digest]result[backend.Layer]
	imageIDs  *result[[]digest.Digest]
	configs   map[digest.Digest]result[rawConfig]
	parents   map[digest.Digest]result[pathDigest]
	tags      *result[tagMap]
	mountIDs  *result[[]string]
	mountRecs map[string]result[backend.MountRecord]
	// verify:
	imageNames *result[imageNames]
}

type result[T any] struct {
	v   T
	err error
}

type layerIDs struct {
	chains []digest.Digest
	other  []string
}

type imageNames struct {
	ids   []digest.Digest
	other []string
}

type rawConfig struct {
	b    []byte
	path string
}

type pathDigest struct {
	d    digest.Digest
	path string
}

type tagMap struct {
	refs map[digest.Digest][]string
	path string
}

var _ backend.Metadata = (*metaCache)(nil)

func newMetaCache(src backend.Metadata) *metaCache {
	return &metaCache{src: src, layers: map[digest.Digest]result[backend.Layer]{},
		configs: map[digest.Digest]result[rawConfig]{}, parents: map[digest.Digest]result[pathDigest]{},
		mountRecs: map[string]result[backend.MountRecord]{}}
}

// once returns *slot, filling it with read on first use.
func once[T any](mu *sync.Mutex, slot **result[T], read func() (T, error)) (T, error) {
	mu.Lock()
	defer mu.Unlock()
	if *slot == nil {
		v, err := read()
		*slot = &result[T]{v, err}
	}
	return (*slot).v, (*slot).err
}

// onceKey returns m[k], filling it with read on first use.
func onceKey[K comparable, T any](mu *sync.Mutex, m map[K]result[T], k K, read func() (T, error)) (T, error) {
	mu.Lock()
	defer mu.Unlock()
	r, ok := m[k]
	if !ok {
		v, err := read()
		r = result[T]{v, err}
		m[k] = r
	}
	return r.v, r.err
}

func (c *metaCache) Path(elem ...string) string           { return c.src.Path(elem...) }
func (c *metaCache) LayerPath(chain digest.Digest) string { return c.src.LayerPath(chain) }

func (c *metaCache) LayerIDs() ([]digest.Digest, []string, error) {
	v, err := once(&c.mu, &c.layerIDs, func() (layerIDs, error) {
		ch, o, err := c.src.LayerIDs()
		return layerIDs{ch, o}, err
	})
	return v.chains, v.other, err
}

func (c *metaCache) Layer(chain digest.Digest) (backend.Layer, error) {
	return onceKey(&c.mu, c.layers, chain, func() (backend.Layer, error) { return c.src.Layer(chain) })
}

func (c *metaCache) ImageIDs() ([]digest.Digest, error) {
	return once(&c.mu, &c.imageIDs, c.src.ImageIDs)
}

func (c *metaCache) ImageConfig(id digest.Digest) ([]byte, string, error) {
	v, err := onceKey(&c.mu, c.configs, id, func() (rawConfig, error) {
		b, p, err := c.src.ImageConfig(id)
		return rawConfig{b, p}, err
	})
	return v.b, v.path, err
}

func (c *metaCache) ImageParent(id digest.Digest) (digest.Digest, string, error) {
	v, err := onceKey(&c.mu, c.parents, id, func() (pathDigest, error) {
		d, p, err := c.src.ImageParent(id)
		return pathDigest{d, p}, err
	})
	return v.d, v.path, err
}

func (c *metaCache) Tags() (map[digest.Digest][]string, string, error) {
	v, err := once(&c.mu, &c.tags, func() (tagMap, error) {
		t, p, err := c.src.Tags()
		return tagMap{t, p}, err
	})
	return v.refs, v.path, err
}

func (c *metaCache) MountIDs() ([]string, error) {
	return once(&c.mu, &c.mountIDs, c.src.MountIDs)
}

func (c *metaCache) MountRecord(id string) (backend.MountRecord, error) {
	return onceKey(&c.mu, c.mountRecs, id, func() (backend.MountRecord, error) { return c.src.MountRecord(id) })
}

func (c *metaCache) ImageNames() ([]digest.Digest, []string, error) {
	v, err := once(&c.mu, &c.imageNames, func() (imageNames, error) {
		ids, o, err := c.src.ImageNames()
		return imageNames{ids, o}, err
	})
	return v.ids, v.other, err
}

// sharedCache keeps what every driver's store of one root shares: the
// containers' configs (containers/<id>/config.v2.json).
type sharedCache struct {
	root string
	fs   layerfs.Opener

	mu         sync.Mutex
	containers *result[containerList]
}

type containerList struct {
	cs    []Container
	finds []Finding
}
