package containerd

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// danglingPrefix names the images dockerd keeps untagged (the classic
// builder's intermediates): moby-dangling@<digest>.
const danglingPrefix = "moby-dangling@"

// errNotExist: what ImageParent returns for an image with no recorded parent.
var errNotExist = fs.ErrNotExist

// metadata is backend.Metadata over meta.db, the snapshotter's
// metadata.db and the content store.
type metadata struct {
	l    *loader
	root string
}

var (
	_ backend.Metadata      = (*metadata)(nil)
	_ backend.ConfigDigests = (*metadata)(nil)
	_ backend.Blobs         = (*metadata)(nil)
	_ backend.DirRecords    = (*metadata)(nil)
)

// Path joins elem to meta.db's path (a place in the bolt file, for messages).
func (m *metadata) Path(elem ...string) string {
	return filepath.Join(append([]string{m.l.metaDB()}, elem...)...)
}

// LayerPath is the layer's snapshot record in meta.db.
func (m *metadata) LayerPath(chain digest.Digest) string {
	return m.Path("v1", m.l.c.Namespace, "snapshots", string(Name), string(chain))
}

// LayerIDs lists the committed snapshots keyed by a digest (image layers,
// keyed by ChainID); the other committed keys (init layers, BuildKit's)
// apart.
func (m *metadata) LayerIDs() ([]digest.Digest, []string, error) {
	ix, err := m.l.get()
	if err != nil {
		return nil, nil, err
	}
	var chains []digest.Digest
	var other []string
	for _, k := range ix.sortedKeys() {
		s := ix.snaps[k]
		if d := digest.Digest(k); d.Validate() == nil && s.Kind == KindCommitted {
			chains = append(chains, d)
		}
	}
	return chains, other, nil
}

// Layer is the snapshot keyed by chain: its dir number as the cache id,
// its recorded size; its DiffID and parent from the image configs whose
// chains hold it.
func (m *metadata) Layer(chain digest.Digest) (backend.Layer, error) {
	ix, err := m.l.get()
	if err != nil {
		return backend.Layer{}, err
	}
	s, ok := ix.snaps[string(chain)]
	if !ok || s.ID == 0 {
		return backend.Layer{}, fmt.Errorf("layer %s: %w: no snapshot %s in namespace %s", chain, backend.ErrNotFound, chain, m.l.c.Namespace)
	}
	l := backend.Layer{ChainID: chain, CacheID: strconv.FormatUint(s.ID, 10), Size: s.Size}
	if c, ok := ix.chains[chain]; ok {
		l.DiffID, l.Parent = c[0], c[1]
	} else if s.Parent == "" {
		l.DiffID = chain
	}
	return l, nil
}

// ImageIDs are the images' targets: in this store an image's ID is its
// manifest's (or index's) digest.
func (m *metadata) ImageIDs() ([]digest.Digest, error) {
	ids, _, err := m.ImageNames()
	return ids, err
}

// ImageNames lists the image IDs, sorted.
func (m *metadata) ImageNames() ([]digest.Digest, []string, error) {
	ix, err := m.l.get()
	if err != nil {
		return nil, nil, err
	}
	seen := map[digest.Digest]bool{}
	var ids []digest.Digest
	for _, im := range ix.images {
		if !seen[im.Target] {
			seen[im.Target] = true
			ids = append(ids, im.Target)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil, nil
}

// ImageConfig returns the config blob the image's manifest names.
func (m *metadata) ImageConfig(id digest.Digest) ([]byte, string, error) {
	ix, err := m.l.get()
	if err != nil {
		return nil, "", err
	}
	r, ok := ix.resolved[id]
	if !ok {
		return nil, "", fmt.Errorf("image %s: %w: no image of namespace %s has it as its target", id, backend.ErrNotFound, m.l.c.Namespace)
	}
	if r.Err != nil {
		return nil, r.ConfigPath, fmt.Errorf("image %s: %w", id, r.Err)
	}
	return r.ConfigRaw, r.ConfigPath, nil
}

// ConfigDigest is the digest of image id's config (its manifest's config
// descriptor), which is not its ID in this store.
func (m *metadata) ConfigDigest(id digest.Digest) (digest.Digest, error) {
	ix, err := m.l.get()
	if err != nil {
		return "", err
	}
	if r, ok := ix.resolved[id]; ok && r.Err == nil {
		return r.Config, nil
	}
	return "", fmt.Errorf("image %s: %w", id, backend.ErrNotFound)
}

// DirRecord says what the snapshotter records of snapshots/<id>: a
// snapshot of the namespace, which is BuildKit's build cache when its key
// is neither an image layer's ChainID, a container's ID, nor an <id>-init
// (BuildKit keys its snapshots with random names, and their views
// <key>-view, held by its leases: docs/facts.md "Snapshot chains"); or
// another namespace's snapshot.
func (m *metadata) DirRecord(id string) backend.DirRecord {
	ix, err := m.l.get()
	if err != nil {
		return backend.DirRecord{}
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return backend.DirRecord{}
	}
	s, ok := ix.byID[n]
	if !ok {
		if k, ok := ix.foreign[n]; ok {
			return foreignRecord(k, m.l.c.Namespace)
		}
		return backend.DirRecord{}
	}
	what := fmt.Sprintf("snapshot %s (%s) of namespace %s", s.Key, s.Kind, m.l.c.Namespace)
	base, isInit := strings.CutSuffix(s.Key, "-init")
	layer := digest.Digest(s.Key).Validate() == nil && s.Kind == KindCommitted
	if !layer && !isContainerKey(s.Key) && !(isInit && isContainerKey(base)) {
		return backend.DirRecord{Role: backend.DirBuildCache, What: what}
	}
	return backend.DirRecord{Role: backend.DirRecorded, What: what}
}

// foreignRecord is the record of a snapshot the snapshotter has whose
// backend key ("<namespace>/<n>/<key>") meta.db's namespace ns does not
// have: another namespace's, or one ns no longer names (an orphan, which
// containerd's garbage collector removes from the snapshotter).
func foreignRecord(backendKey, ns string) backend.DirRecord {
	parts := strings.SplitN(backendKey, "/", 3)
	if len(parts) == 3 && parts[0] != ns {
		return backend.DirRecord{Role: backend.DirForeign, What: fmt.Sprintf("snapshot %s of containerd namespace %s (not Docker's)", parts[2], parts[0])}
	}
	return backend.DirRecord{What: fmt.Sprintf("the snapshotter's snapshot %s, which namespace %s no longer names (containerd's garbage collector removes such snapshots)", backendKey, ns)}
}

// BlobsDir is the content store's blobs/.
func (m *metadata) BlobsDir() string {
	return filepath.Join(m.l.c.Root, "io.containerd.content.v1.content", "blobs")
}

// BlobUse says which images' manifest, index, config or layers d is.
func (m *metadata) BlobUse(d digest.Digest) (string, []digest.Digest) {
	ix, err := m.l.get()
	if err != nil {
		return "", nil
	}
	u := ix.roles[d]
	return u.what, slices.Clone(u.images)
}

// ImageParent is the label org.mobyproject.image.parent (classic builds).
func (m *metadata) ImageParent(id digest.Digest) (digest.Digest, string, error) {
	ix, err := m.l.get()
	if err != nil {
		return "", "", err
	}
	for _, im := range ix.images {
		if im.Target == id && im.Parent != "" {
			return im.Parent, m.Path("v1", m.l.c.Namespace, "images", im.Name, "labels"), nil
		}
	}
	return "", m.Path("v1", m.l.c.Namespace, "images"), fmt.Errorf("image %s: %w: no parent label", id, errNotExist)
}

// Tags maps each image ID to its names, as `docker images` shows them:
// docker.io/library/x:t as x:t; the moby-dangling@ names are no tags.
func (m *metadata) Tags() (map[digest.Digest][]string, string, error) {
	p := m.Path("v1", m.l.c.Namespace, "images")
	ix, err := m.l.get()
	if err != nil {
		return map[digest.Digest][]string{}, p, err
	}
	out := map[digest.Digest][]string{}
	for _, im := range ix.images {
		if strings.HasPrefix(im.Name, danglingPrefix) {
			continue
		}
		out[im.Target] = append(out[im.Target], familiar(im.Name))
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out, p, nil
}

// familiar shortens docker.io/library/x and docker.io/x as Docker prints them.
func familiar(name string) string {
	if s, ok := strings.CutPrefix(name, "docker.io/library/"); ok && !strings.Contains(strings.SplitN(s, "@", 2)[0], "/") {
		return s
	}
	if s, ok := strings.CutPrefix(name, "docker.io/"); ok {
		return s
	}
	return name
}

// MountIDs lists the containers whose rw snapshot (keyed by the container
// ID) is in the namespace, sorted.
func (m *metadata) MountIDs() ([]string, error) {
	ix, err := m.l.get()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range ix.sortedKeys() {
		if isContainerKey(k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// MountRecord: the container's snapshot and its -init, by number; the
// parent is the -init's parent, the image's top ChainID.
func (m *metadata) MountRecord(containerID string) (backend.MountRecord, error) {
	ix, err := m.l.get()
	if err != nil {
		return backend.MountRecord{}, err
	}
	s, ok := ix.snaps[containerID]
	if !ok || s.ID == 0 {
		return backend.MountRecord{}, fmt.Errorf("container %s: %w: no snapshot keyed by its ID in namespace %s (%s)", shortID(containerID), backend.ErrNotFound, m.l.c.Namespace, m.l.metaDB())
	}
	r := backend.MountRecord{MountID: strconv.FormatUint(s.ID, 10)}
	if in, ok := ix.snaps[containerID+"-init"]; ok && in.ID != 0 && s.Parent == in.Key {
		r.InitID = strconv.FormatUint(in.ID, 10)
		if d := digest.Digest(in.Parent); d.Validate() == nil {
			r.Parent = d
		}
	} else if d := digest.Digest(s.Parent); d.Validate() == nil {
		r.Parent = d
	}
	return r, nil
}

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
