package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/overlay2"
	"github.com/opencontainers/go-digest"
)

// maxConfig bounds an image config (real ones are a few KiB).
const maxConfig = 16 << 20

// model is what the metadata files say, read once, with the findings of
// reading them.
type model struct {
	s     *inspect.Store
	home  overlay2.Home
	graph inspect.Driver
	// aufs: the driver keeps a layer's whiteouts and opaque markers as the
	// ".wh." files of its tar, and records parents in aufs/layers/<id>.
	aufs       bool
	images     map[digest.Digest]*imageInfo
	layers     map[digest.Digest]*layerInfo
	containers []*containerInfo
	tags       map[digest.Digest][]string
	findings   []Finding
	stats      Stats
	// live counts content progress for the Progress callback.
	live struct{ entries, bytes atomic.Int64 }
}

type imageInfo struct {
	id     digest.Digest
	path   string
	intact bool // the config hashes to the ID
	parsed bool // the config parsed: chains is known
	chains []digest.Digest
	diffs  []digest.Digest
	tags   []string
	ctrs   []string
	// child is set when another image names this one as its parent (an
	// intermediate image of a build, when untagged).
	child bool
}

// name is how findings name the image: its first tag, else its ID.
func (im *imageInfo) name() string {
	if len(im.tags) > 0 {
		return im.tags[0]
	}
	return im.id.String()
}

type layerInfo struct {
	chain    digest.Digest
	dir      string // layerdb dir
	readable bool   // diff and cache-id read
	diff     digest.Digest
	parent   digest.Digest
	cacheID  string
	cacheOK  bool   // overlay2/<cache-id>/diff is a directory
	link     string // the link file's short name; "" when unknown
	tarSplit string // tar-split.json.gz when it is a regular file
	// trusted is the DiffID the content must hash to: the image config's
	// diff_id when an intact image holds the layer, else the diff file.
	trusted digest.Digest
	depth   int // 1 = base; 0 when the chain is broken
	users   []*imageInfo
}

// contentReady says whether the layer's stream can be rebuilt at all.
func (l *layerInfo) contentReady() bool {
	return l.readable && l.cacheOK && l.tarSplit != ""
}

type containerInfo struct {
	c inspect.Container
}

// add records a finding.
func (m *model) add(f Finding) { m.findings = append(m.findings, f) }

// readModel reads images, tags, layers and containers.
func readModel(s *inspect.Store) (*model, error) {
	m := &model{s: s, home: overlay2.Home{Dir: filepath.Join(s.Root, "overlay2")}, graph: s.Graph(), aufs: s.Driver == "aufs", images: map[digest.Digest]*imageInfo{}, layers: map[digest.Digest]*layerInfo{}}
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
	m.stats.Images, m.stats.Layers, m.stats.Containers = len(m.images), len(m.layers), len(m.containers)
	return m, nil
}

func (m *model) readImages() error {
	dir := m.s.ImagePath("imagedb", "content", "sha256")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("imagedb: %w", err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		id := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if id.Validate() != nil {
			m.add(Finding{Kind: KindImagedbStray, ObjectType: ObjectStore, Path: p, File: p,
				Message: "not an image ID (64 hex digits): Docker ignores it"})
			continue
		}
		im := &imageInfo{id: id, path: p}
		m.images[id] = im
		b, err := layerfs.ReadFileLimit(p, maxConfig)
		if err != nil {
			m.add(Finding{Kind: KindImageConfigMalformed, ObjectType: ObjectImage, Object: id.String(), Path: p, File: p, Message: err.Error()})
			continue
		}
		if got := digest.FromBytes(b); got != id {
			m.add(Finding{Kind: KindImageIDMismatch, ObjectType: ObjectImage, Object: id.String(), Path: p, File: p,
				Expected: id.String(), Actual: got.String(),
				Message: "the image config was changed: its sha256 is no longer its ID, so its diff_ids are not trusted"})
		} else {
			im.intact = true
		}
		cfg, err := inspect.ParseImageConfig(strings.NewReader(string(b)))
		if err != nil {
			m.add(Finding{Kind: KindImageConfigMalformed, ObjectType: ObjectImage, Object: id.String(), Path: p, File: p, Message: err.Error()})
			continue
		}
		im.parsed, im.diffs, im.chains = true, cfg.RootFS.DiffIDs, inspect.ChainIDs(cfg.RootFS.DiffIDs)
	}
	for _, im := range m.images {
		if parent, err := readDigest(m.s.ImagePath("imagedb", "metadata", "sha256", im.id.Encoded(), "parent")); err == nil {
			if p := m.images[parent]; p != nil {
				p.child = true
			}
		}
	}
	return nil
}

func (m *model) readTags() {
	p := m.s.ImagePath("repositories.json")
	tags, err := m.s.Tags()
	if err != nil {
		m.add(Finding{Kind: KindRepositoriesMalformed, ObjectType: ObjectStore, Path: p, File: p, Message: err.Error()})
	}
	m.tags = tags
	for id, ts := range tags {
		if im := m.images[id]; im != nil {
			im.tags = ts
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
		m.add(Finding{Kind: KindLayerdbStray, ObjectType: ObjectStore, Path: p, File: p,
			Message: "not a chain ID directory (64 hex digits): Docker ignores it"})
	}
	for _, c := range chains {
		m.layers[c] = m.readLayer(c)
	}
	return nil
}

// readLayer reads one layerdb entry, each file on its own, so that one bad
// file is one finding.
func (m *model) readLayer(chain digest.Digest) *layerInfo {
	l := &layerInfo{chain: chain, dir: m.s.LayerPath(chain)}
	bad := func(kind Kind, file, msg string) {
		m.add(Finding{Kind: kind, ObjectType: ObjectLayer, Object: chain.String(), Path: file, File: file, Message: msg})
	}
	p := filepath.Join(l.dir, "diff")
	d, err := readDigest(p)
	if err != nil {
		bad(KindLayerUnreadable, p, "diff: "+err.Error())
	}
	l.diff = d
	p = filepath.Join(l.dir, "parent")
	if l.parent, err = readDigest(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		bad(KindLayerUnreadable, p, "parent: "+err.Error())
		l.parent = ""
		d = "" // the chain cannot be followed
	}
	p = filepath.Join(l.dir, "cache-id")
	id, err := layerfs.ReadSmallFile(p, 4096)
	switch {
	case err != nil:
		bad(KindLayerUnreadable, p, "cache-id: "+err.Error())
	case !overlay2.ValidID(id):
		bad(KindLayerUnreadable, p, fmt.Sprintf("cache-id %q is not a directory name", id))
	default:
		l.cacheID = id
	}
	l.readable = d != "" && l.cacheID != ""
	p = filepath.Join(l.dir, "size")
	if sz, err := layerfs.ReadSmallFile(p, 64); err != nil {
		bad(KindSizeMalformed, p, err.Error())
	} else if n, err := strconv.ParseInt(sz, 10, 64); err != nil || n < 0 {
		bad(KindSizeMalformed, p, fmt.Sprintf("%q is not a decimal byte count", sz))
	}
	p = filepath.Join(l.dir, "tar-split.json.gz")
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		msg := "not a regular file"
		if err != nil {
			msg = err.Error()
		}
		bad(KindTarSplitMissing, p, msg+": the layer's tar stream cannot be rebuilt (docker save and push fail)")
	} else {
		l.tarSplit = p
	}
	return l
}

func readDigest(p string) (digest.Digest, error) {
	s, err := layerfs.ReadSmallFile(p, 1024)
	if err != nil {
		return "", err
	}
	d, err := digest.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a digest: %v", s, err)
	}
	return d, nil
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
		if c.Driver != "" && c.Driver != m.s.Driver && slices.Contains(m.s.Others, c.Driver) {
			continue // verified with its own driver's store
		}
		m.containers = append(m.containers, &containerInfo{c: c})
		if im := m.images[c.ImageID]; im != nil {
			im.ctrs = append(im.ctrs, c.Name)
		}
	}
	for _, im := range m.images {
		sort.Strings(im.ctrs)
	}
	return nil
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
		return out[i].chain < out[j].chain
	})
	return out
}
