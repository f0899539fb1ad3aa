package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// model is what the store's metadata says, read once through the Store's
// memoized methods, with the findings of reading it.
type model struct {
	s     *inspect.Store
	md    backend.Metadata
	graph inspect.Driver
	terms backend.Terms
	marks backend.Markers
	// bv is the metadata when the store's layers come from content blobs
	// (no tar-split); blobs its content store's blobs, and badBlobs those
	// that are no regular file (not opened).
	bv       backend.BlobVerifier
	blobs    []backend.ContentBlob
	badBlobs map[digest.Digest]bool
	// hidden is true when this process cannot see the driver's markers
	// (inspect.Store.Gaps): their absence proves nothing, so it is not a
	// finding.
	hidden bool
	// watch are the xattrs read with every file and dir: the capability
	// that grants privileges like a setuid bit, and the driver's markers.
	watch      []string
	images     map[digest.Digest]*imageInfo
	layers     map[digest.Digest]*layerInfo
	containers []inspect.Container
	tags       map[digest.Digest][]string
	findings   []Finding
	// gone are the findings finish left out: their object was removed
	// while the store was read.
	gone  []Finding
	stats Stats
	// pace is Options.Pace, nil for none.
	pace Pace
	// trust is the run's use of Options.Trust; nil without it.
	trust *trustState
	// live counts content progress for the Progress callback.
	live struct{ entries, bytes atomic.Int64 }
}

// imageInfo is an image of the store and what the checks learn of it.
type imageInfo struct {
	// Image is the image as the Store reads it; only ID and Path are
	// set when its config is unreadable.
	inspect.Image
	intact bool // the config hashes to the ID
	parsed bool // the config parsed: chains is known
	chains []digest.Digest
	ctrs   []string
	// child is set when another image names this one as its parent (an
	// intermediate image of a build, when untagged).
	child bool
}

// name is how findings name the image: its first tag, else its ID.
func (im *imageInfo) name() string {
	if len(im.Tags) > 0 {
		return im.Tags[0]
	}
	return im.ID.String()
}

// diffs are the image's diff IDs, base first (when parsed).
func (im *imageInfo) diffs() []digest.Digest { return im.Config.RootFS.DiffIDs }

// layerInfo is a layer of the store and what the checks learn of it.
type layerInfo struct {
	// Layer is the record as the Store reads it; the fields of its bad
	// files are empty.
	inspect.Layer
	dir      string // layerdb dir
	readable bool   // diff, parent and cache-id read
	cacheOK  bool   // the driver's layer dir and content dir are dirs
	// ref is how a parents file names this layer (Driver.LowerRef); ""
	// when unknown.
	ref      string
	tarSplit string // tar-split.json.gz when it is a regular file
	// blob is, in a store whose layers come from content blobs, the
	// blob the layer was unpacked from, when it is a regular file.
	blob *backend.LayerBlob
	// noBlob says why there is none (reported when an image holds the layer).
	noBlob *Finding
	// trusted is the DiffID the content must hash to: the image config's
	// diff_id when an intact image holds the layer, else the diff file.
	trusted digest.Digest
	depth   int // 1 = base; 0 when the chain is broken
	users   []*imageInfo
}

// contentReady says whether the layer's stream can be rebuilt at all.
func (l *layerInfo) contentReady() bool {
	return l.readable && l.cacheOK && (l.tarSplit != "" || l.blob != nil)
}

// add records a finding.
func (m *model) add(f Finding) { m.findings = append(m.findings, f) }

// newModel is an empty model of the store.
func newModel(s *inspect.Store) *model {
	g := s.Graph()
	m := &model{s: s, md: s.Metadata(), graph: g, terms: g.Terms(), marks: g.Markers(),
		images: map[digest.Digest]*imageInfo{}, layers: map[digest.Digest]*layerInfo{}}
	m.watch = append([]string{"security.capability"}, m.marks.Xattrs()...)
	m.bv, _ = s.BlobVerifier()
	m.badBlobs = map[digest.Digest]bool{}
	m.hidden = len(s.Gaps()) > 0
	return m
}

// readModel reads images, tags, layers and containers.
func readModel(s *inspect.Store) (*model, error) {
	m := newModel(s)
	if err := m.readImages(); err != nil {
		return nil, err
	}
	m.readTags()
	if err := m.readLayers(); err != nil {
		return nil, err
	}
	if err := m.readContainers(); err != nil {
		return nil, err
	}
	m.readBlobs()
	m.stats.Images, m.stats.Layers, m.stats.Containers = len(m.images), len(m.layers), len(m.containers)
	return m, nil
}

func (m *model) readImages() error {
	ids, other, err := m.md.ImageNames()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("imagedb: %w", err)
	}
	for _, name := range other {
		p := m.s.ImagePath("imagedb", "content", "sha256", name)
		actual, msg := m.stray(p, "not an image ID (64 hex digits): Docker ignores it")
		m.add(Finding{Kind: KindImagedbStray, ObjectType: ObjectStore, Path: p, File: p, Actual: actual, Message: msg})
	}
	for _, id := range ids {
		m.images[id] = m.readImage(id)
	}
	for _, im := range m.images {
		if parent, _, err := m.md.ImageParent(im.ID); err == nil {
			if p := m.images[parent]; p != nil {
				p.child = true
			}
		}
	}
	return nil
}

// readImage reads one image through the Store: its config must hash to
// its ID (the Store's image_id_mismatch finding) and parse.
func (m *model) readImage(id digest.Digest) *imageInfo {
	raw, p, err := m.md.ImageConfig(id)
	im := &imageInfo{Image: inspect.Image{ID: id, Path: p}}
	bad := func(err error) {
		m.add(Finding{Kind: KindImageConfigMalformed, ObjectType: ObjectImage, Object: id.String(), Path: p, File: p, Message: err.Error()})
	}
	if err != nil {
		bad(err)
		return im
	}
	img, err := m.s.Image(id)
	if img == nil {
		bad(err)
		return im
	}
	im.Image, im.intact = *img, true
	for _, f := range img.Findings {
		if f.Kind.String() == KindImageIDMismatch.String() {
			im.intact = false
			m.add(Finding{Kind: KindImageIDMismatch, ObjectType: ObjectImage, Object: id.String(), Path: p, File: p,
				Expected: id.String(), Actual: id.Algorithm().FromBytes(raw).String(),
				Message: "the image config was changed: its sha256 is no longer its ID, so its diff_ids are not trusted"})
		}
	}
	if err != nil {
		bad(err)
		return im
	}
	im.parsed, im.chains = true, inspect.ChainIDs(im.diffs())
	return im
}

func (m *model) readTags() {
	tags, p, err := m.md.Tags()
	if err != nil {
		m.add(Finding{Kind: KindRepositoriesMalformed, ObjectType: ObjectStore, Path: p, File: p, Message: err.Error()})
	}
	m.tags = tags
	for id, ts := range tags {
		if im := m.images[id]; im != nil {
			im.Tags = ts
		}
	}
}

func (m *model) readLayers() error {
	chains, other, err := m.s.LayerChainIDs()
	if err != nil {
		return fmt.Errorf("layerdb: %w", err)
	}
	for _, name := range other {
		if strings.HasSuffix(name, "-removing") {
			continue // a layer Docker is deleting
		}
		p := m.s.ImagePath("layerdb", "sha256", name)
		actual, msg := m.stray(p, "not a chain ID directory (64 hex digits): Docker ignores it")
		m.add(Finding{Kind: KindLayerdbStray, ObjectType: ObjectStore, Path: p, File: p, Actual: actual, Message: msg})
	}
	for _, c := range chains {
		m.layers[c] = m.readLayer(c)
	}
	return nil
}

func (m *model) readContainers() error {
	cs, finds, err := m.s.Containers()
	if err != nil {
		return err
	}
	for _, f := range finds {
		m.add(Finding{Kind: KindContainerUnreadable, ObjectType: ObjectContainer, Object: filepath.Base(filepath.Dir(f.Path)),
			Path: f.Path, File: f.Path, Message: f.Message})
	}
	for _, c := range cs {
		if c.Driver != "" && m.s.ForDriver(c.Driver) != m.s {
			continue // verified with its own driver's store
		}
		m.containers = append(m.containers, c)
		if im := m.images[c.ImageID]; im != nil {
			im.ctrs = append(im.ctrs, c.Name)
		}
	}
	for _, im := range m.images {
		sort.Strings(im.ctrs)
	}
	return nil
}

// ownLayers says whether c's layers are in this store: c names the
// store's driver, or none (an old config).
func (m *model) ownLayers(c inspect.Container) bool {
	return c.Driver == "" || inspect.DriverName(c.Driver) == m.graph.Name()
}

// layerList returns the layers base first (by depth), then by chain ID.
func (m *model) layerList() []*layerInfo {
	out := make([]*layerInfo, 0, len(m.layers))
	for _, l := range m.layers {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].depth != out[j].depth {
			return out[i].depth < out[j].depth
		}
		return out[i].ChainID < out[j].ChainID
	})
	return out
}

// stray says what a name the metadata lists is not: msg, or, for an
// entry that is a symlink (or other non-dir, non-file where the store
// keeps those), what it is and where it points; it is never followed.
func (m *model) stray(p, msg string) (actual, message string) {
	fi, err := m.s.FS().Lstat(p)
	if err != nil || fi.Mode().IsDir() || fi.Mode().IsRegular() {
		return "", msg
	}
	actual = describePath(m.s.FS(), p, fi, err)
	return actual, "a " + actual + " where the store has a directory or file: never followed; Docker does not make these"
}
