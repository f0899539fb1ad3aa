package whose

import (
	"errors"
	"os"
	"sort"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// index is what the store's metadata says owns what: every layerdb
// layer, image, container and mount record, from the store's memoized
// reads, once per query.
type index struct {
	layers    map[digest.Digest]inspect.Layer
	byCache   map[string]digest.Digest // driver dir → chain ID
	images    []*indexedImage          // tagged first, then by ID
	imageByID map[digest.Digest]*indexedImage
	ctrs      []inspect.Container            // of this driver, newest first, as docker ps
	ctrByID   map[string]inspect.Container   // every container
	mounts    map[string]inspect.MountRecord // container ID → its rw layer record
	byMount   map[string]string              // mount-id → container ID
	byInit    map[string]string              // init-id → container ID
	// claims are, by mount-id and init-id, every container whose record
	// names the dir (more than one only in evidence that is not Docker's)
	claims map[string][]string
	// unreadable are metadata entries that could not be read: any of them
	// may own a dir that looks orphaned.
	unreadable []inspect.Finding
}

// indexedImage is an image with its layer chain.
type indexedImage struct {
	img      *inspect.Image
	chains   []digest.Digest // base first
	hist     []inspect.History
	parent   digest.Digest
	children int
}

func (q *query) index() *index {
	if q.idx != nil {
		return q.idx
	}
	s := q.s
	x := &index{layers: map[digest.Digest]inspect.Layer{}, byCache: map[string]digest.Digest{},
		imageByID: map[digest.Digest]*indexedImage{}, ctrByID: map[string]inspect.Container{},
		mounts: map[string]inspect.MountRecord{}, byMount: map[string]string{}, byInit: map[string]string{}}
	q.idx = x
	bad := func(kind inspect.FindingKind, path string, err error) {
		x.unreadable = append(x.unreadable, inspect.Finding{Kind: kind, Path: path, Message: err.Error()})
	}
	chains, _, err := s.LayerChainIDs()
	if err != nil {
		bad("layerdb_unreadable", s.ImagePath("layerdb", "sha256"), err)
	}
	for _, c := range chains {
		l, err := s.Layer(c)
		if err != nil {
			bad("layer_unreadable", s.LayerPath(c), err)
			continue
		}
		x.layers[c] = l
		if _, dup := x.byCache[l.CacheID]; !dup {
			x.byCache[l.CacheID] = c
		}
	}
	x.addImages(s, bad)
	ctrs, finds, err := s.Containers()
	if err != nil {
		bad("containers_unreadable", s.Path("containers"), err)
	}
	x.unreadable = append(x.unreadable, finds...)
	for _, c := range ctrs {
		x.ctrByID[c.ID] = c
		if c.Driver == "" || isOwn(s, c.Driver) { // a mixed root: the other driver's containers use its layers
			x.ctrs = append(x.ctrs, c)
		}
	}
	mids, err := s.MountContainerIDs()
	if err != nil {
		bad("mounts_unreadable", s.ImagePath("layerdb", "mounts"), err)
	}
	for _, id := range mids {
		rec, err := s.MountRecord(id)
		if err != nil {
			bad("mount_unreadable", s.ImagePath("layerdb", "mounts", id), err)
			continue
		}
		x.mounts[id] = rec
		x.byMount[rec.MountID] = id
		if rec.InitID != "" {
			x.byInit[rec.InitID] = id
		}
	}
	x.claims = s.LayerDirClaims()
	for dir, cs := range x.claims {
		if len(cs) > 1 {
			// the dir stays with a running claimant, if any
			for _, c := range cs {
				if ct, ok := x.ctrByID[c]; ok && (ct.State.Running || ct.State.Status == "running") {
					if x.mounts[c].MountID == dir {
						x.byMount[dir] = c
					} else {
						x.byInit[dir] = c
					}
				}
			}
		}
	}
	return x
}

// addImages indexes every image, its chain and its local parent.
func (x *index) addImages(s *inspect.Store, bad func(kind inspect.FindingKind, path string, err error)) {
	ids, err := s.ImageIDs()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		bad("imagedb_unreadable", s.ImagePath("imagedb", "content", "sha256"), err)
	}
	for _, id := range ids {
		img, err := s.Image(id)
		if img == nil || err != nil {
			bad("image_unreadable", s.ImagePath("imagedb", "content", "sha256", id.Encoded()), err)
			continue
		}
		wi := &indexedImage{img: img, chains: inspect.ChainIDs(img.Config.RootFS.DiffIDs)}
		wi.hist, _ = img.Config.LayerHistory()
		if p, _, err := s.Metadata().ImageParent(id); err == nil {
			wi.parent = p
		}
		x.images = append(x.images, wi)
		x.imageByID[id] = wi
	}
	for _, wi := range x.images {
		if p := x.imageByID[wi.parent]; p != nil {
			p.children++
		}
	}
	sort.SliceStable(x.images, func(i, j int) bool {
		a, b := x.images[i].img, x.images[j].img
		if (len(a.Tags) > 0) != (len(b.Tags) > 0) {
			return len(a.Tags) > 0
		}
		return a.ID < b.ID
	})
}

// owner says which kind of metadata names driver dir id, or "".
func (x *index) owner(id string) OwnerKind {
	switch {
	case x.byCache[id] != "":
		return OwnerImageLayer
	case x.byMount[id] != "":
		return OwnerRWLayer
	case x.byInit[id] != "":
		return OwnerInitLayer
	}
	return ""
}

// container describes container id (which may have a mount record but no
// config left).
func (x *index) container(id string) *Container {
	c, ok := x.ctrByID[id]
	out := &Container{ID: id, State: "unknown (no config.v2.json)"}
	if ok {
		out = &Container{ID: id, Name: c.Name, State: c.State.Status, Image: c.ImageRef, ImageID: c.ImageID, Driver: c.Driver}
	}
	if m, ok := x.mounts[id]; ok {
		out.MountID, out.InitID = m.MountID, m.InitID
	}
	return out
}

// chainOf returns the layer chain (base first) a container's rw layer
// sits on: its image's, or, when the image is unreadable, the mount
// record's parent followed down layerdb.
func (x *index) chainOf(id string) []digest.Digest {
	if c, ok := x.ctrByID[id]; ok {
		if wi := x.imageByID[c.ImageID]; wi != nil {
			return wi.chains
		}
	}
	var rev []digest.Digest
	top := x.mounts[id].Parent
	for n := 0; top != "" && n < 10000; n++ {
		rev = append(rev, top)
		top = x.layers[top].Parent
	}
	out := make([]digest.Digest, len(rev))
	for i, c := range rev {
		out[len(rev)-1-i] = c
	}
	return out
}

// layer describes image layer chain and everything that uses it.
func (x *index) layer(s *inspect.Store, chain digest.Digest) *Layer {
	l := x.layers[chain]
	l.ChainID = chain
	out := &Layer{Layer: l, Dir: s.Graph().Layout(l.CacheID).Dir, Images: []ImageUse{}, Containers: []Container{}}
	if link, err := s.Graph().Link(l.CacheID); err == nil {
		out.Link = link
	}
	for _, wi := range x.images {
		for i, c := range wi.chains {
			if c != chain {
				continue
			}
			u := ImageUse{ID: wi.img.ID, Tags: nonNil(wi.img.Tags), Position: i + 1, Layers: len(wi.chains)}
			if i < len(wi.hist) {
				u.CreatedBy, u.Created = wi.hist[i].CreatedBy, wi.hist[i].Created
				if u.CreatedBy == "" {
					u.CreatedBy = wi.hist[i].Comment
				}
			}
			out.Images = append(out.Images, u)
		}
	}
	for _, c := range x.containersOn(chain) {
		out.Containers = append(out.Containers, *x.container(c))
	}
	return out
}

// containersOn lists the containers (IDs, newest first) whose rw layer
// sits on a chain holding layer chain.
func (x *index) containersOn(chain digest.Digest) []string {
	var out []string
	seen := map[string]bool{}
	ids := make([]string, 0, len(x.ctrs)+len(x.mounts))
	for _, c := range x.ctrs {
		ids = append(ids, c.ID)
	}
	var gone []string // mount records without a container config
	for id := range x.mounts {
		if _, ok := x.ctrByID[id]; !ok {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	ids = append(ids, gone...)
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		for _, c := range x.chainOf(id) {
			if c == chain {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// image describes an image and what uses it.
func (x *index) image(id digest.Digest) *Image {
	wi := x.imageByID[id]
	if wi == nil {
		return nil
	}
	out := &Image{ID: id, Tags: nonNil(wi.img.Tags), Layers: len(wi.chains), Children: wi.children, Containers: []Container{}}
	for _, c := range x.ctrs {
		if c.ImageID == id {
			out.Containers = append(out.Containers, *x.container(c.ID))
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
