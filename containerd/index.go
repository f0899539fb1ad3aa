package containerd

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/boltcopy"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"
)

// Size bounds: real files are far smaller.
const (
	maxBoltDB = 4 << 30  // meta.db, metadata.db
	maxBlob   = 16 << 20 // a manifest, index or config blob
)

// Kind is a snapshot's kind as the snapshotter's metadata.db records it
// (containerd core/snapshots: 1 view, 2 active, 3 committed).
type Kind byte

// The kinds of snapshot.
const (
	KindUnknown   Kind = 0
	KindView      Kind = 1
	KindActive    Kind = 2
	KindCommitted Kind = 3
)

// String names the kind as containerd does.
func (k Kind) String() string {
	switch k {
	case KindView:
		return "view"
	case KindActive:
		return "active"
	case KindCommitted:
		return "committed"
	}
	return "unknown(" + strconv.Itoa(int(k)) + ")"
}

// Snapshot is one snapshot of the namespace: meta.db's
// v1/<ns>/snapshots/<snapshotter>/<key> joined with the snapshotter's
// metadata.db v1/snapshots/<backend key>.
type Snapshot struct {
	// Key is the namespace's key: a ChainID for an image layer, a
	// container ID for a container's rw layer, <id>-init for its init
	// layer, a random name for BuildKit's.
	Key string
	// BackendKey is the snapshotter's key, "<ns>/<n>/<Key>".
	BackendKey string
	// ID is the snapshot's dir, snapshots/<ID>; 0 when metadata.db has no
	// record of it.
	ID   uint64
	Kind Kind
	// Parent is the parent's Key ("" for a base layer).
	Parent string
	// Size is the allocated bytes of fs/ at commit (committed only).
	Size int64
}

// image is one entry of meta.db's v1/<ns>/images.
type image struct {
	Name      string
	Target    digest.Digest
	MediaType string
	Size      int64         // the target's descriptor size
	Parent    digest.Digest // label org.mobyproject.image.parent
}

// resolved is an image ID's manifest and config, read from the content store.
type resolved struct {
	Manifest   digest.Digest
	Index      digest.Digest // the target, when it is an index
	Layers     []digest.Digest
	Config     digest.Digest
	ConfigRaw  []byte
	ConfigPath string
	Err        error
	// The descriptors' sizes: the manifest's (its blob's length), the
	// config's and each layer's, as the manifest records them.
	ManifestSize, ConfigSize int64
	LayerSizes               []int64
	// LayerMediaTypes are the layer descriptors' media types.
	LayerMediaTypes []string
}

// index is everything the backend reads from the containerd root, read
// once.
type index struct {
	snaps     map[string]*Snapshot // by Key
	byID      map[uint64]*Snapshot
	backendOf map[string]*Snapshot // by BackendKey
	images    []image
	resolved  map[digest.Digest]*resolved
	// chains maps a ChainID to its DiffID and parent ChainID, from the
	// image configs.
	chains map[digest.Digest][2]digest.Digest
	// midWrite names a bolt file copied while it changed.
	midWrite []string
	// refs are every namespace's garbage-collection references, by
	// namespace name; foreign the snapshot dirs of other namespaces, by
	// dir number, with their backend keys.
	refs    map[string]*nsRefs
	foreign map[uint64]string
	// uses says what keeps each blob alive (blobUses of the namespace);
	// roles what each blob is to the images whose manifests name it.
	uses  map[digest.Digest]*blobUse
	roles map[digest.Digest]blobRole
	// blobs are meta.db's records of the content store's blobs.
	blobs map[digest.Digest]blobRecord
	// layerBlobs maps a ChainID to the blob a manifest names for it.
	layerBlobs map[digest.Digest]layerBlob
}

// loader reads the index once.
type loader struct {
	c    Config
	o    layerfs.Opener
	once sync.Once
	ix   *index
	err  error
}

func (l *loader) get() (*index, error) {
	l.once.Do(func() { l.ix, l.err = l.load() })
	return l.ix, l.err
}

func (l *loader) metaDB() string {
	return filepath.Join(l.c.Root, "io.containerd.metadata.v1.bolt", "meta.db")
}

func (l *loader) snapHome() string {
	return filepath.Join(l.c.Root, "io.containerd.snapshotter.v1."+string(Name))
}

func (l *loader) blobPath(d digest.Digest) string {
	return filepath.Join(l.c.Root, "io.containerd.content.v1.content", "blobs", string(d.Algorithm()), d.Encoded())
}

func (l *loader) load() (*index, error) {
	if l.c.Root == "" {
		return nil, fmt.Errorf("%w: no containerd root found beside the data root (give it with --containerd-root)", ErrNoContainerdRoot)
	}
	ix := &index{snaps: map[string]*Snapshot{}, byID: map[uint64]*Snapshot{}, backendOf: map[string]*Snapshot{},
		resolved: map[digest.Digest]*resolved{}, chains: map[digest.Digest][2]digest.Digest{},
		refs: map[string]*nsRefs{}, foreign: map[uint64]string{},
		blobs: map[digest.Digest]blobRecord{}, layerBlobs: map[digest.Digest]layerBlob{}}
	if err := l.readMeta(ix); err != nil {
		return nil, err
	}
	if err := l.readSnapshotter(ix); err != nil {
		return nil, err
	}
	ix.uses = ix.blobUses(l.c.Namespace)
	for _, im := range ix.images {
		if _, ok := ix.resolved[im.Target]; !ok {
			ix.resolved[im.Target] = l.resolve(im)
		}
	}
	for _, r := range ix.resolved {
		if r.Err != nil {
			continue
		}
		var c backend.ImageConfig
		if json.Unmarshal(r.ConfigRaw, &c) != nil {
			continue
		}
		var parent digest.Digest
		for i, chain := range backend.ChainIDs(c.RootFS.DiffIDs) {
			ix.chains[chain] = [2]digest.Digest{c.RootFS.DiffIDs[i], parent}
			ix.noteLayerBlob(chain, r, i)
			parent = chain
		}
	}
	ix.roles = ix.blobRoles()
	return ix, nil
}

// blobRole is what a blob is to the images whose manifests name it
// ("index", "manifest", "config", "layer"), and those images, sorted.
type blobRole struct {
	what   string
	images []digest.Digest
}

// blobRoles indexes, once, what each blob is to the resolved images.
func (ix *index) blobRoles() map[digest.Digest]blobRole {
	out := map[digest.Digest]blobRole{}
	ids := make([]digest.Digest, 0, len(ix.resolved))
	for id := range ix.resolved {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := ix.resolved[id]
		add := func(d digest.Digest, what string) {
			if d == "" {
				return
			}
			u := out[d]
			if n := len(u.images); n > 0 && u.images[n-1] == id {
				return // one role per image: the first its manifest gives it
			}
			u.what, u.images = what, append(u.images, id)
			out[d] = u
		}
		add(r.Index, "index")
		add(r.Manifest, "manifest")
		add(r.Config, "config")
		for _, l := range r.Layers {
			add(l, "layer")
		}
	}
	return out
}

func (l *loader) readMeta(ix *index) error {
	p := l.metaDB()
	db, err := boltcopy.Open(l.o, p, "", maxBoltDB)
	if err != nil {
		return fmt.Errorf("containerd root %s: %w", l.c.Root, err)
	}
	defer db.Close()
	if db.MayBeMidWrite {
		ix.midWrite = append(ix.midWrite, p)
	}
	return db.View(func(tx *bolt.Tx) error {
		readRefs(tx, ix.refs)
		ns := bucket(tx, "v1", l.c.Namespace)
		if ns == nil {
			return fmt.Errorf("%s: %w: no namespace %q (give another with --namespace)", p, ErrNoNamespace, l.c.Namespace)
		}
		if all := ns.Bucket([]byte("snapshots")); all != nil && all.Bucket([]byte(Name)) == nil {
			var others []string
			all.ForEachBucket(func(k []byte) error {
				others = append(others, string(k))
				return nil
			})
			if len(others) > 0 {
				return fmt.Errorf("%s: %w: namespace %s keeps its snapshots in containerd's %s snapshotter, which dlayer does not read (it reads %s)",
					p, ErrOtherSnapshotter, l.c.Namespace, strings.Join(others, " and "), Name)
			}
		}
		if sb := nested(ns, "snapshots", string(Name)); sb != nil {
			sb.ForEachBucket(func(k []byte) error {
				b := sb.Bucket(k)
				s := &Snapshot{Key: string(k), BackendKey: string(b.Get([]byte("name"))), Parent: string(b.Get([]byte("parent")))}
				ix.snaps[s.Key] = s
				ix.backendOf[s.BackendKey] = s
				return nil
			})
		}
		readBlobRecords(ns, ix)
		if ib := ns.Bucket([]byte("images")); ib != nil {
			ib.ForEachBucket(func(k []byte) error {
				b := ib.Bucket(k)
				im := image{Name: string(k)}
				if t := b.Bucket([]byte("target")); t != nil {
					im.Target = digest.Digest(t.Get([]byte("digest")))
					im.MediaType = string(t.Get([]byte("mediatype")))
					im.Size, _ = binary.Varint(t.Get([]byte("size")))
				}
				if lb := b.Bucket([]byte("labels")); lb != nil {
					im.Parent = digest.Digest(lb.Get([]byte("org.mobyproject.image.parent")))
				}
				if im.Target.Validate() == nil {
					ix.images = append(ix.images, im)
				}
				return nil
			})
		}
		return nil
	})
}

func (l *loader) readSnapshotter(ix *index) error {
	p := filepath.Join(l.snapHome(), "metadata.db")
	db, err := boltcopy.Open(l.o, p, "", maxBoltDB)
	if err != nil {
		return fmt.Errorf("snapshotter %s: %w", l.snapHome(), err)
	}
	defer db.Close()
	if db.MayBeMidWrite {
		ix.midWrite = append(ix.midWrite, p)
	}
	return db.View(func(tx *bolt.Tx) error {
		sb := bucket(tx, "v1", "snapshots")
		if sb == nil {
			return nil
		}
		return sb.ForEachBucket(func(k []byte) error {
			b := sb.Bucket(k)
			s, ok := ix.backendOf[string(k)]
			if !ok { // another namespace's, or a key meta.db no longer has
				if id, n := binary.Uvarint(b.Get([]byte("id"))); n > 0 {
					ix.foreign[id] = string(k)
				}
				return nil
			}
			if id, n := binary.Uvarint(b.Get([]byte("id"))); n > 0 {
				s.ID = id
				ix.byID[id] = s
			}
			if v := b.Get([]byte("kind")); len(v) == 1 {
				s.Kind = Kind(v[0])
			}
			if v, n := binary.Varint(b.Get([]byte("size"))); n > 0 {
				s.Size = v
			}
			return nil
		})
	})
}

// resolve reads an image's manifest (the one for this machine's platform
// when its target is an index) and config from the content store.
func (l *loader) resolve(im image) *resolved {
	r := &resolved{Manifest: im.Target}
	raw, err := l.o.ReadFile(l.blobPath(im.Target), maxBlob)
	if err != nil {
		r.Err = err
		return r
	}
	var m struct {
		MediaType string               `json:"mediaType"`
		Config    ocispec.Descriptor   `json:"config"`
		Layers    []ocispec.Descriptor `json:"layers"`
		Manifests []ocispec.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		r.Err = fmt.Errorf("%s: %w: %v", l.blobPath(im.Target), backend.ErrMalformed, err)
		return r
	}
	if len(m.Manifests) > 0 && m.Config.Digest == "" {
		pick := l.pickManifest(m.Manifests)
		if pick == "" {
			r.Err = fmt.Errorf("%s: %w: no manifest of the index is in the content store", l.blobPath(im.Target), backend.ErrNotFound)
			return r
		}
		r.Manifest, r.Index = pick, im.Target
		raw, err = l.o.ReadFile(l.blobPath(pick), maxBlob)
		if err == nil {
			err = json.Unmarshal(raw, &m)
		}
		if err != nil {
			r.Err = fmt.Errorf("%s: %w", l.blobPath(pick), err)
			return r
		}
	}
	if m.Config.Digest.Validate() != nil {
		r.Err = fmt.Errorf("%s: %w: no config descriptor", l.blobPath(r.Manifest), backend.ErrMalformed)
		return r
	}
	for _, x := range m.Layers {
		r.Layers = append(r.Layers, x.Digest)
		r.LayerSizes = append(r.LayerSizes, x.Size)
		r.LayerMediaTypes = append(r.LayerMediaTypes, x.MediaType)
	}
	r.ManifestSize, r.ConfigSize = int64(len(raw)), m.Config.Size
	r.Config, r.ConfigPath = m.Config.Digest, l.blobPath(m.Config.Digest)
	r.ConfigRaw, r.Err = l.o.ReadFile(r.ConfigPath, maxBlob)
	return r
}

// pickManifest returns the index entry for linux on this architecture
// whose blob is present, else the first present.
func (l *loader) pickManifest(ms []ocispec.Descriptor) digest.Digest {
	var first digest.Digest
	for _, d := range ms {
		if d.Digest.Validate() != nil {
			continue
		}
		if _, err := l.o.Lstat(l.blobPath(d.Digest)); err != nil {
			continue
		}
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH {
			return d.Digest
		}
		if first == "" {
			first = d.Digest
		}
	}
	return first
}

func bucket(tx *bolt.Tx, path ...string) *bolt.Bucket {
	b := tx.Bucket([]byte(path[0]))
	if b == nil {
		return nil
	}
	return nested(b, path[1:]...)
}

func nested(b *bolt.Bucket, path ...string) *bolt.Bucket {
	for _, p := range path {
		if b = b.Bucket([]byte(p)); b == nil {
			return nil
		}
	}
	return b
}

// Errors of the containerd root.
var (
	// ErrNoContainerdRoot: the store's containerd root is not there.
	ErrNoContainerdRoot = errors.New("containerd root not found")
	// ErrOtherSnapshotter: the store's snapshots are another
	// snapshotter's (native, btrfs, zfs, erofs, blockfile, stargz…).
	ErrOtherSnapshotter = errors.New("snapshotter not read")
	// ErrNoNamespace: meta.db has no such namespace.
	ErrNoNamespace = errors.New("no such containerd namespace")
)

// chainOf lists snapshot s and the snapshots below it, nearest first.
func (ix *index) chainOf(s *Snapshot) []*Snapshot {
	var out []*Snapshot
	seen := map[string]bool{}
	for p := s.Parent; p != "" && !seen[p]; {
		seen[p] = true
		ps, ok := ix.snaps[p]
		if !ok {
			out = append(out, &Snapshot{Key: p})
			break
		}
		out = append(out, ps)
		p = ps.Parent
	}
	return out
}

// sortedKeys lists the snapshot keys, sorted.
func (ix *index) sortedKeys() []string {
	out := make([]string, 0, len(ix.snaps))
	for k := range ix.snaps {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// isContainerKey reports whether key names a container's rw snapshot (64
// hex) — not an image layer (a ChainID), an init layer or BuildKit's.
func isContainerKey(k string) bool {
	if len(k) != 64 {
		return false
	}
	return strings.Trim(k, "0123456789abcdef") == ""
}
