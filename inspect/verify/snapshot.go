package verify

import (
	"path/filepath"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// snapshot reads, from fresh (a store re-opened with nothing memoized),
// only the objects of keys and what their checks consult, and runs the
// metadata checks on them: a container brings its image and its rw
// layer's parent; a layer the images that held it in the scan; an image
// its chain and its parent image; each layer its parents. The checks are
// the scan's own, so an object that did not change gets the findings it
// got in the scan. Findings about other objects of the snapshot are
// partial (not every image or layer is there) and are not looked at.
func (m *model) snapshot(fresh *inspect.Store, keys []objKey) *model {
	n := newModel(fresh)
	var images, layers []digest.Digest
	for _, k := range keys {
		switch k.typ {
		case ObjectLayer:
			layers = append(layers, digest.Digest(k.id))
			if l := m.layers[digest.Digest(k.id)]; l != nil {
				for _, im := range l.users {
					images = append(images, im.ID)
				}
			}
		case ObjectImage:
			images = append(images, digest.Digest(k.id))
			if parent, _, err := fresh.Metadata().ImageParent(digest.Digest(k.id)); err == nil {
				images = append(images, parent)
			}
		}
	}
	var ctrs []objKey
	for _, k := range keys {
		if k.typ == ObjectContainer {
			ctrs = append(ctrs, k)
		}
	}
	for _, k := range ctrs {
		c, ok := n.readContainerAgain(k.id)
		if !ok {
			continue
		}
		if c.ImageID != "" {
			images = append(images, c.ImageID)
		}
		if mr, err := fresh.MountRecord(c.ID); err == nil && mr.Parent != "" {
			layers = append(layers, mr.Parent)
		}
	}
	for _, id := range images {
		if _, ok := n.images[id]; ok || id.Validate() != nil {
			continue
		}
		if !hasImage(fresh, id) {
			continue // not an image of the store (any more)
		}
		im := n.readImage(id)
		n.images[id] = im
		layers = append(layers, im.chains...)
	}
	n.readTags()
	for len(layers) > 0 {
		c := layers[0]
		layers = layers[1:]
		if _, ok := n.layers[c]; ok || c.Validate() != nil {
			continue
		}
		if !hasLayer(fresh, c) {
			continue
		}
		l := n.readLayer(c)
		n.layers[c] = l
		if l.Parent != "" {
			layers = append(layers, l.Parent)
		}
	}
	expect := n.checkImages()
	n.checkLayerRecords(expect)
	n.readBlobs()
	n.checkBlobRecords()
	n.setDepths()
	for _, l := range n.layerList() {
		n.checkDriverDirs(l)
	}
	for _, l := range n.layerList() {
		n.checkLower(l)
	}
	for _, c := range n.containers {
		n.checkContainer(c)
	}
	for _, k := range ctrs {
		n.checkOrphanRecord(k.id)
	}
	return n
}

// readContainerAgain reads one container's config as readContainers reads
// them all: an unreadable config is a finding; a container of another
// driver's store is not checked here. ok is false when there is no
// container to check.
func (n *model) readContainerAgain(id string) (inspect.Container, bool) {
	c, find, exists := n.s.ContainerConfig(id)
	if !exists {
		return c, false
	}
	if find != nil {
		n.add(Finding{Kind: KindContainerUnreadable, ObjectType: ObjectContainer, Object: filepath.Base(filepath.Dir(find.Path)),
			Path: find.Path, File: find.Path, Message: find.Message})
	}
	if c.ID == "" || (c.Driver != "" && n.s.ForDriver(c.Driver) != n.s) {
		return c, false
	}
	n.containers = append(n.containers, c)
	return c, true
}

// checkOrphanRecord is checkContainers' mount_orphan check for one
// container ID: its rw layer record is there, its container dir is not.
func (n *model) checkOrphanRecord(id string) {
	for _, c := range n.containers {
		if c.ID == id {
			return
		}
	}
	p := n.s.ImagePath("layerdb", "mounts", id)
	if _, err := n.s.FS().Lstat(p); err != nil {
		return
	}
	if _, err := n.s.FS().Lstat(n.s.Path("containers", id)); err == nil {
		return
	}
	n.add(Finding{Kind: KindMountOrphan, ObjectType: ObjectContainer, Object: id, Path: p, File: p,
		Expected: "containers/" + id, Actual: "missing", Message: "an rw layer record whose container does not exist"})
}

// hasImage reports whether the store has a record of image id: its
// imagedb config, or, in a store whose records are no files of their own,
// what its metadata says.
func hasImage(s *inspect.Store, id digest.Digest) bool {
	if r, ok := s.Records(); ok {
		return r.HasImage(id)
	}
	_, err := s.FS().Lstat(s.ImagePath("imagedb", "content", "sha256", id.Encoded()))
	return err == nil
}

// hasLayer is hasImage for layer chain.
func hasLayer(s *inspect.Store, chain digest.Digest) bool {
	if r, ok := s.Records(); ok {
		return r.HasLayer(chain)
	}
	_, err := s.FS().Lstat(s.LayerPath(chain))
	return err == nil
}
