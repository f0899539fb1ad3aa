package inspect

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// whoseIndex is what the store's metadata says owns what: every layerdb
// layer, image, container and mount record, read once per query.
type whoseIndex struct {
	layers    map[digest.Digest]Layer
	byCache   map[string]digest.Digest // driver dir → chain ID
	images    []*whoseImg              // tagged first, then by ID
	imageByID map[digest.Digest]*whoseImg
	ctrs      []Container            // of this driver, newest first, as docker ps
	ctrByID   map[string]Container   // every container
	mounts    map[string]MountRecord // container ID → its rw layer record
	byMount   map[string]string      // mount-id → container ID
	byInit    map[string]string      // init-id → container ID
	// unreadable are metadata entries that could not be read: any of them
	// may own a dir that looks orphaned.
	unreadable []Finding
}

// whoseImg is an image with its layer chain.
type whoseImg struct {
	img      *Image
	chains   []digest.Digest // base first
	hist     []History
	parent   digest.Digest
	children int
}

func (q *whoseQuery) index() *whoseIndex {
	if q.idx != nil {
		return q.idx
	}
	s := q.s
	x := &whoseIndex{layers: map[digest.Digest]Layer{}, byCache: map[string]digest.Digest{},
		imageByID: map[digest.Digest]*whoseImg{}, ctrByID: map[string]Container{},
		mounts: map[string]MountRecord{}, byMount: map[string]string{}, byInit: map[string]string{}}
	q.idx = x
	bad := func(kind, path string, err error) {
		x.unreadable = append(x.unreadable, Finding{Kind: kind, Path: path, Message: err.Error()})
	}
	chains, _, err := s.LayerChainIDs()
	if err != nil {
		bad("layerdb_unreadable", s.imageDir("layerdb", "sha256"), err)
	}
	for _, c := range chains {
		l, err := s.Layer(c)
		if err != nil {
			bad("layer_unreadable", s.layerDir(c), err)
			continue
		}
		x.layers[c] = l
		if _, dup := x.byCache[l.CacheID]; !dup {
			x.byCache[l.CacheID] = c
		}
	}
	ids, err := s.ImageIDs()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		bad("imagedb_unreadable", s.imageDir("imagedb", "content", "sha256"), err)
	}
	for _, id := range ids {
		img, err := s.Image(id)
		if img == nil || err != nil {
			bad("image_unreadable", s.imageDir("imagedb", "content", "sha256", id.Encoded()), err)
			continue
		}
		wi := &whoseImg{img: img, chains: ChainIDs(img.Config.RootFS.DiffIDs)}
		wi.hist, _ = img.Config.LayerHistory()
		if p, err := readDigest(s.imageDir("imagedb", "metadata", "sha256", id.Encoded(), "parent")); err == nil {
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
	ctrs, finds, err := s.Containers()
	if err != nil {
		bad("containers_unreadable", s.Path("containers"), err)
	}
	x.unreadable = append(x.unreadable, finds...)
	for _, c := range ctrs {
		x.ctrByID[c.ID] = c
		if c.Driver == "" || c.Driver == s.Driver { // a mixed root: the other driver's containers use its layers
			x.ctrs = append(x.ctrs, c)
		}
	}
	mids, err := s.MountContainerIDs()
	if err != nil {
		bad("mounts_unreadable", s.imageDir("layerdb", "mounts"), err)
	}
	for _, id := range mids {
		rec, err := s.MountRecord(id)
		if err != nil {
			bad("mount_unreadable", s.imageDir("layerdb", "mounts", id), err)
			continue
		}
		x.mounts[id] = rec
		x.byMount[rec.MountID] = id
		if rec.InitID != "" {
			x.byInit[rec.InitID] = id
		}
	}
	return x
}

// owner says which kind of metadata names driver dir id, or "".
func (x *whoseIndex) owner(id string) string {
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
func (x *whoseIndex) container(id string) *WhoseContainer {
	c, ok := x.ctrByID[id]
	out := &WhoseContainer{ID: id, State: "unknown (no config.v2.json)"}
	if ok {
		out = &WhoseContainer{ID: id, Name: c.Name, State: c.State.Status, Image: c.ImageRef, ImageID: c.ImageID, Driver: c.Driver}
	}
	if m, ok := x.mounts[id]; ok {
		out.MountID, out.InitID = m.MountID, m.InitID
	}
	return out
}

// chainOf returns the layer chain (base first) a container's rw layer
// sits on: its image's, or, when the image is unreadable, the mount
// record's parent followed down layerdb.
func (x *whoseIndex) chainOf(id string) []digest.Digest {
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
func (x *whoseIndex) layer(s *Store, chain digest.Digest) *WhoseLayer {
	l := x.layers[chain]
	out := &WhoseLayer{ChainID: chain, DiffID: l.DiffID, Parent: l.Parent, CacheID: l.CacheID, Dir: s.graph.Layout(l.CacheID).Dir, Size: l.Size,
		Images: []WhoseImageUse{}, Containers: []WhoseContainer{}}
	if link, err := s.graph.Link(l.CacheID); err == nil {
		out.Link = link
	}
	for _, wi := range x.images {
		for i, c := range wi.chains {
			if c != chain {
				continue
			}
			u := WhoseImageUse{ID: wi.img.ID, Tags: whoseNonNil(wi.img.Tags), Position: i + 1, Layers: len(wi.chains)}
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
func (x *whoseIndex) containersOn(chain digest.Digest) []string {
	var out []string
	seen := map[string]bool{}
	ids := make([]string, 0, len(x.ctrs)+len(x.mounts))
	for _, c := range x.ctrs {
		ids = append(ids, c.ID)
	}
	for id := range x.mounts {
		if _, ok := x.ctrByID[id]; !ok {
			ids = append(ids, id)
		}
	}
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
func (x *whoseIndex) image(id digest.Digest) *WhoseImage {
	wi := x.imageByID[id]
	if wi == nil {
		return nil
	}
	out := &WhoseImage{ID: id, Tags: whoseNonNil(wi.img.Tags), Layers: len(wi.chains), Children: wi.children, Containers: []WhoseContainer{}}
	for _, c := range x.ctrs {
		if c.ImageID == id {
			out.Containers = append(out.Containers, *x.container(c.ID))
		}
	}
	return out
}

func whoseNonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// buildKit returns BuildKit's dir names, read once; nil when they could
// not be read (and a note or finding says why).
func (q *whoseQuery) buildKit() map[string]bool {
	if q.bkRead {
		return q.bk
	}
	q.bkRead = true
	p := q.s.Path("buildkit", "snapshots.db")
	if q.opt.BuildKit == nil {
		q.a.Notes = append(q.a.Notes, "BuildKit's snapshots.db was not read: build cache cannot be told from orphans")
		return nil
	}
	bk, err := q.opt.BuildKit(p)
	if err != nil {
		q.a.Findings = append(q.a.Findings, Finding{Kind: "buildkit_unreadable", Path: p,
			Message: fmt.Sprintf("%v (build cache dirs cannot be told from orphans)", err)})
		return nil
	}
	q.bk = bk
	return bk
}

// layerOwner sets the owner of driver dir id.
func (q *whoseQuery) layerOwner(id string) {
	s, x, a := q.s, q.index(), q.a
	a.LayerDir = id
	switch x.owner(id) {
	case OwnerImageLayer:
		a.Owner = WhoseOwner{Kind: OwnerImageLayer, ID: id, Layer: x.layer(s, x.byCache[id])}
	case OwnerRWLayer:
		a.Owner = WhoseOwner{Kind: OwnerRWLayer, ID: id, Container: x.container(x.byMount[id])}
	case OwnerInitLayer:
		a.Owner = WhoseOwner{Kind: OwnerInitLayer, ID: id, Container: x.container(x.byInit[id])}
	default:
		if why, ok := s.graph.Bookkeeping(id); ok {
			a.Owner = WhoseOwner{Kind: OwnerBookkeeping, ID: id, Why: why}
			return
		}
		if q.buildKit()[id] {
			a.Owner = WhoseOwner{Kind: OwnerBuildCache, ID: id, Why: "BuildKit snapshot (buildkit/snapshots.db)"}
			return
		}
		a.Owner = WhoseOwner{Kind: OwnerOrphan, ID: id, Why: s.OrphanReason(s.graph.Layout(id).Dir, id, func(m string) string { return x.byMount[m] })}
		return
	}
	dir := s.graph.Layout(id).Dir
	if _, err := os.Lstat(dir); err != nil {
		a.Findings = append(a.Findings, Finding{Kind: "layer_dir_missing", Path: dir,
			Message: fmt.Sprintf("the %s's dir is missing (%v)", strings.ReplaceAll(a.Owner.Kind, "_", " "), err)})
	}
}

// whoseReadlink reads a symlink's target as text (never followed).
func whoseReadlink(p string) (string, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return "", fmt.Errorf("%s: not a symlink (%s)", p, whoseFileType(fi.Mode()))
	}
	return os.Readlink(p)
}

// whoseFileType names a file mode's type as layerfs does.
func whoseFileType(m os.FileMode) string {
	switch {
	case m.IsRegular():
		return string(layerfs.TypeFile)
	case m.IsDir():
		return string(layerfs.TypeDir)
	case m&os.ModeSymlink != 0:
		return string(layerfs.TypeSymlink)
	case m&os.ModeNamedPipe != 0:
		return string(layerfs.TypeFIFO)
	case m&os.ModeSocket != 0:
		return string(layerfs.TypeSocket)
	case m&os.ModeCharDevice != 0:
		return string(layerfs.TypeChar)
	case m&os.ModeDevice != 0:
		return string(layerfs.TypeBlock)
	}
	return string(layerfs.TypeUnknown)
}

// whoseExists reports whether the path elem below the root exists (lstat).
func (s *Store) whoseExists(elem ...string) bool {
	_, err := os.Lstat(s.Path(elem...))
	return err == nil
}
