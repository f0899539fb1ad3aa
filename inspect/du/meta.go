package du

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// meta is what the store's metadata says owns what.
type meta struct {
	layers     map[digest.Digest]*Layer // by chain ID
	layerOrder []digest.Digest
	images     []*Image
	containers []*Container
	byCache    map[string]*Layer     // overlay2 dir name → layer
	byMount    map[string]*Container // mount-id → container
	byInit     map[string]*Container // init-id → container
	// mountParent is each container's layerdb/mounts parent: the chain ID
	// of its image's top layer.
	mountParent map[string]digest.Digest
	// counted is, per chain ID, the number of counted images (those
	// docker system df lists) whose chain holds the layer.
	counted map[digest.Digest]int
	// otherDriver names, per container ID, the driver of a container that
	// another driver's store holds (a migrated host).
	otherDriver map[string]string
	finds       []inspect.Finding
	// engineLayersSize is the images total by the store's own rule
	// (backend.EngineSizes: Docker 29's LayersSize); nil when the
	// layers' sizes make it.
	engineLayersSize *int64
	// unreadableLayers counts layerdb entries that could not be read:
	// while there are any, a dir nothing names may be one of theirs.
	unreadableLayers int
}

func (m *meta) find(kind FindingKind, path, format string, args ...any) {
	m.finds = append(m.finds, inspect.Finding{Kind: inspect.FindingKind(kind), Path: path, Message: fmt.Sprintf(format, args...)})
}

// readMeta indexes what the store's metadata says owns what: its layers,
// images, tags, containers and mount records, as the Store has read them
// (once per Store, whichever features ask). A damaged entry is a finding;
// only an unreadable listing of a whole store is an error.
func readMeta(s *inspect.Store) (*meta, error) {
	m := &meta{layers: map[digest.Digest]*Layer{}, byCache: map[string]*Layer{},
		byMount: map[string]*Container{}, byInit: map[string]*Container{}, mountParent: map[string]digest.Digest{}, otherDriver: map[string]string{}}
	chains, other, err := s.LayerChainIDs()
	if err != nil {
		return nil, fmt.Errorf("layerdb %s: %w", s.ImagePath("layerdb", "sha256"), err)
	}
	for _, name := range other {
		p := s.ImagePath("layerdb", "sha256", name)
		if strings.HasSuffix(name, "-removing") {
			m.find(KindLayerdbRemoving, p, "left by an interrupted layer removal (Docker renames a layerdb entry to <chain>-<random>-removing before deleting it)")
		} else {
			m.find(KindLayerdbStray, p, "not a layerdb entry (not 64 hex digits)")
		}
	}
	if ents, err := s.FS().ReadDir(s.ImagePath("layerdb", "tmp")); err == nil {
		for _, e := range ents {
			m.find(KindLayerdbTmpLeftover, s.ImagePath("layerdb", "tmp", e.Name()), "left in layerdb/tmp by an interrupted layer write (pull, load, build or commit)")
		}
	}
	for _, c := range chains {
		l, err := s.Layer(c)
		if err != nil {
			m.find(KindLayerUnreadable, s.LayerPath(c), "%v", err)
			m.unreadableLayers++
			continue
		}
		lay := &Layer{Layer: l, Dir: s.Graph().Layout(l.CacheID).Dir, MeasuredSize: -1}
		if prev := m.byCache[l.CacheID]; prev != nil {
			m.find(KindCacheIDShared, s.LayerPath(c), "cache-id %s is also the cache-id of layer %s", l.CacheID, prev.ChainID)
		} else {
			m.byCache[l.CacheID] = lay
		}
		m.layers[c] = lay
		m.layerOrder = append(m.layerOrder, c)
	}
	if err := m.readImages(s); err != nil {
		return nil, err
	}
	m.readContainers(s)
	return m, nil
}

func (m *meta) readImages(s *inspect.Store) error {
	ids, err := s.ImageIDs()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("imagedb %s: %w", s.ImagePath("imagedb", "content", "sha256"), err)
	}
	tags, err := s.Tags()
	if err != nil {
		m.find(KindRepositoriesUnreadable, s.ImagePath("repositories.json"), "%v", err)
	}
	byID := map[digest.Digest]*Image{}
	for _, id := range ids {
		img, err := s.Image(id)
		if err != nil {
			m.find(KindImageUnreadable, s.ImagePath("imagedb", "content", "sha256", id.Encoded()), "%v", err)
			continue
		}
		im := &Image{ID: id, Tags: tags[id], Created: img.Config.Created, Layers: inspect.ChainIDs(img.Config.RootFS.DiffIDs)}
		if im.Tags == nil {
			im.Tags = []string{}
		}
		switch par, pp, err := s.Metadata().ImageParent(id); {
		case err == nil:
			im.Parent = par
		case errors.Is(err, inspect.ErrMalformed):
			m.find(KindImageParentMalformed, pp, "%v", err)
		}
		byID[id] = im
		m.images = append(m.images, im)
	}
	for _, im := range m.images {
		if p := byID[im.Parent]; p != nil {
			p.Children++
		}
	}
	for _, im := range m.images {
		im.Dangling = len(im.Tags) == 0 && im.Children == 0
		im.Counted = len(im.Tags) > 0 || im.Children == 0
	}
	sort.Slice(m.images, func(i, j int) bool { return m.images[i].ID < m.images[j].ID })
	return nil
}

func (m *meta) readContainers(s *inspect.Store) {
	cs, finds, err := s.Containers()
	if err != nil {
		m.find(KindContainersUnreadable, s.Path("containers"), "%v", err)
	}
	m.finds = append(m.finds, finds...)
	known := map[string]*Container{}
	for _, c := range cs {
		if !ours(s, c) {
			m.otherDriver[c.ID] = c.Driver
			continue
		}
		ct := &Container{ID: c.ID, Name: c.Name, Image: c.ImageRef, ImageID: c.ImageID, State: c.State.Status,
			Dir: s.Path("containers", c.ID)}
		known[c.ID] = ct
		m.containers = append(m.containers, ct)
	}
	ids, err := s.MountContainerIDs()
	if err != nil {
		m.find(KindMountsUnreadable, s.ImagePath("layerdb", "mounts"), "%v", err)
	}
	for _, id := range ids {
		rec, err := s.MountRecord(id)
		if err != nil {
			m.find(KindMountUnreadable, s.ImagePath("layerdb", "mounts", id), "%v", err)
			continue
		}
		ct := known[id]
		if ct == nil {
			// an rw layer whose container config is gone still owns its dirs
			ct = &Container{ID: id, State: "unknown", Dir: s.Path("containers", id)}
			m.find(KindMountWithoutContainer, s.ImagePath("layerdb", "mounts", id),
				"layerdb has an rw layer (mount-id %s) for a container with no containers/%s/config.v2.json", rec.MountID, id)
			known[id] = ct
			m.containers = append(m.containers, ct)
		}
		ct.MountID, ct.InitID = rec.MountID, rec.InitID
		m.mountParent[id] = rec.Parent
		m.claim(s, m.byMount, rec.MountID, ct)
		if rec.InitID != "" {
			m.claim(s, m.byInit, rec.InitID, ct)
		}
	}
	for _, ct := range m.containers {
		if ct.MountID == "" {
			ct.MountMissing = true
			m.find(KindMountMissing, s.ImagePath("layerdb", "mounts", ct.ID),
				"container %s (%s) has no rw layer record", shortID(ct.ID), ct.Name)
		}
	}
}

func shortID(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// ours reports whether container c was made with the store's driver: the
// driver its config names is the store's (an old config names none).
// Another one's container belongs to a sibling store of the root.
func ours(s *inspect.Store, c inspect.Container) bool {
	return c.Driver == "" || backend.Name(c.Driver) == s.Graph().Name()
}

// claim charges layer dir id to container ct in by. When another
// container's record already names the dir, both are named in a finding
// and the dir stays with a running claimant (a stopped one's removal
// would not free it).
func (m *meta) claim(s *inspect.Store, by map[string]*Container, id string, ct *Container) {
	if prev := by[id]; prev != nil && prev != ct {
		m.find(KindLayerDirClaimedTwice, s.Graph().Layout(id).Dir, "claimed by the records of containers %s (%s) and %s (%s): one of the records is not Docker's; charged to %s",
			shortID(prev.ID), prev.Name, shortID(ct.ID), ct.Name, map[bool]string{true: shortID(prev.ID), false: shortID(ct.ID)}[prev.State == "running"])
		if prev.State == "running" {
			return
		}
	}
	by[id] = ct
}
