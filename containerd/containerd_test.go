package containerd

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// store is a containerd image store built by code, shaped as
// docs/facts.md "containerd image store" describes a Docker 29 engine's
// (TestDocker29Engine asserts those facts on a real one): a base layer;
// a classic RUN layer sitting on its build container's -init snapshot; a
// container on the image with its -init; a tagged image and a dangling
// one.
type store struct {
	root, ctr string
	cid       string
	d1, d2    digest.Digest // diff IDs
	c1, c2    digest.Digest // chain IDs
	app, base digest.Digest // image IDs (manifest digests)
	appConfig []byte
}

func buildStore(t *testing.T) store {
	t.Helper()
	top := t.TempDir()
	s := store{root: filepath.Join(top, "docker"), ctr: filepath.Join(top, "containerd"), cid: strings.Repeat("c", 64)}
	s.d1, s.d2 = digest.FromString("layer 1"), digest.FromString("layer 2")
	s.c1, s.c2 = s.d1, digest.FromString(string(s.d1)+" "+string(s.d2))
	mk := func(p string) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mk(filepath.Join(s.root, "rootfs", "overlayfs"))
	mk(filepath.Join(s.root, "image"))
	blobs := filepath.Join(s.ctr, "io.containerd.content.v1.content", "blobs", "sha256")
	mk(blobs)
	blob := func(v any) digest.Digest {
		b, _ := json.Marshal(v)
		d := digest.FromBytes(b)
		if err := os.WriteFile(filepath.Join(blobs, d.Encoded()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	image := func(diffs ...digest.Digest) (digest.Digest, []byte) {
		cfg := map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": diffs},
			"history": []map[string]any{{"created_by": "Imported from -"}, {"created_by": "/bin/sh -c mkdir /data"}}[:len(diffs)]}
		cd := blob(cfg)
		raw, _ := json.Marshal(cfg)
		return blob(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(raw)}}), raw
	}
	s.base, _ = image(s.d1)
	s.app, s.appConfig = image(s.d1, s.d2)

	type snap struct {
		key, parent string
		id          uint64
		kind        Kind
	}
	bi := strings.Repeat("b", 64) + "-init"
	snaps := []snap{
		{string(s.c1), "", 1, KindCommitted},
		{bi, string(s.c1), 2, KindCommitted},
		{string(s.c2), bi, 3, KindCommitted},
		{s.cid + "-init", string(s.c2), 4, KindCommitted},
		{s.cid, s.cid + "-init", 5, KindActive},
	}
	bk := func(k string, n int) string { return "moby/" + string(rune('0'+n)) + "/" + k }
	put := func(path string, fill func(tx *bolt.Tx) error) {
		mk(filepath.Dir(path))
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(fill); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	put(filepath.Join(s.ctr, "io.containerd.metadata.v1.bolt", "meta.db"), func(tx *bolt.Tx) error {
		v1, _ := tx.CreateBucketIfNotExists([]byte("v1"))
		ns, _ := v1.CreateBucketIfNotExists([]byte("moby"))
		sb, _ := ns.CreateBucketIfNotExists([]byte("snapshots"))
		ov, _ := sb.CreateBucketIfNotExists([]byte("overlayfs"))
		for i, x := range snaps {
			b, _ := ov.CreateBucket([]byte(x.key))
			b.Put([]byte("name"), []byte(bk(x.key, i)))
			if x.parent != "" {
				b.Put([]byte("parent"), []byte(x.parent))
			}
		}
		ib, _ := ns.CreateBucketIfNotExists([]byte("images"))
		for name, target := range map[string]digest.Digest{"docker.io/library/app:1": s.app, "moby-dangling@" + string(s.base): s.base} {
			b, _ := ib.CreateBucket([]byte(name))
			tb, _ := b.CreateBucket([]byte("target"))
			tb.Put([]byte("digest"), []byte(target))
			tb.Put([]byte("mediatype"), []byte("application/vnd.oci.image.manifest.v1+json"))
		}
		return nil
	})
	home := filepath.Join(s.ctr, "io.containerd.snapshotter.v1.overlayfs")
	put(filepath.Join(home, "metadata.db"), func(tx *bolt.Tx) error {
		v1, _ := tx.CreateBucketIfNotExists([]byte("v1"))
		sb, _ := v1.CreateBucketIfNotExists([]byte("snapshots"))
		for i, x := range snaps {
			b, _ := sb.CreateBucket([]byte(bk(x.key, i)))
			b.Put([]byte("id"), binary.AppendUvarint(nil, x.id))
			b.Put([]byte("kind"), []byte{byte(x.kind)})
			b.Put([]byte("size"), binary.AppendVarint(nil, int64(4096*x.id)))
			if x.parent != "" {
				b.Put([]byte("parent"), []byte(bk(x.parent, i-1)))
			}
			mk(filepath.Join(home, "snapshots", string(rune('0'+x.id)), "fs"))
		}
		return nil
	})
	return s
}

// TestBackend: the store's images, layers, containers and snapshot chain
// as the backend reads them, through a confined opener over both roots.
func TestBackend(t *testing.T) {
	s := buildStore(t)
	br, err := layerfs.OpenBeneath(s.root)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	bc, err := layerfs.OpenBeneath(s.ctr)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	o := layerfs.NewRoots(map[string]layerfs.Opener{s.root: br, s.ctr: bc})
	if got := DefaultRoot(s.root); got != s.ctr {
		t.Errorf("DefaultRoot = %q, want the containerd dir beside the data root %q", got, s.ctr)
	}
	b := New(Config{})
	if !b.Detect(s.root, o) {
		t.Fatal("Detect: false on a containerd store")
	}
	d := b.Open(s.root, o)
	m := d.Metadata()

	ids, err := m.ImageIDs()
	if err != nil || !slices.Equal(ids, sortDigests(s.app, s.base)) {
		t.Errorf("ImageIDs = %v, %v", ids, err)
	}
	tags, _, err := m.Tags()
	if err != nil || len(tags) != 1 || !slices.Equal(tags[s.app], []string{"app:1"}) {
		t.Errorf("Tags = %v, %v: want app:1 only (moby-dangling@ is no tag)", tags, err)
	}
	raw, _, err := m.ImageConfig(s.app)
	if err != nil || string(raw) != string(s.appConfig) {
		t.Errorf("ImageConfig(app) = %q, %v", raw, err)
	}
	if cd, err := m.(backend.ConfigDigests).ConfigDigest(s.app); err != nil || cd != digest.FromBytes(s.appConfig) {
		t.Errorf("ConfigDigest = %v, %v", cd, err)
	}
	chains, _, err := m.LayerIDs()
	if err != nil || !slices.Equal(chains, sortDigests(s.c1, s.c2)) {
		t.Errorf("LayerIDs = %v, %v", chains, err)
	}
	l, err := m.Layer(s.c2)
	if err != nil || l.CacheID != "3" || l.DiffID != s.d2 || l.Parent != s.c1 || l.Size != 3*4096 {
		t.Errorf("Layer(c2) = %+v, %v: want snapshot 3, its diff and the chain's parent (not the build -init it sits on)", l, err)
	}
	mids, err := m.MountIDs()
	if err != nil || !slices.Equal(mids, []string{s.cid}) {
		t.Errorf("MountIDs = %v, %v", mids, err)
	}
	r, err := m.MountRecord(s.cid)
	if err != nil || r.MountID != "5" || r.InitID != "4" || r.Parent != s.c2 {
		t.Errorf("MountRecord = %+v, %v", r, err)
	}
	if what, imgs := m.(backend.Blobs).BlobUse(s.app); what != "manifest" || !slices.Equal(imgs, []digest.Digest{s.app}) {
		t.Errorf("BlobUse(app manifest) = %q %v", what, imgs)
	}
	if what, imgs := m.(backend.Blobs).BlobUse(digest.FromBytes(s.appConfig)); what != "config" || len(imgs) != 1 {
		t.Errorf("BlobUse(app config) = %q %v", what, imgs)
	}
	lowers, exists, err := d.Lowers("5")
	var got []string
	for _, lw := range lowers {
		x := lw.ID
		if lw.Unowned {
			x += "(unowned)"
		}
		got = append(got, x)
	}
	if err != nil || !exists || strings.Join(got, " ") != "4 3 2(unowned) 1" {
		t.Errorf("Lowers(5) = %v, %v, %v: want the -init, the layers, and the build container's -init unowned", got, exists, err)
	}
	if lay := d.Layout("5"); lay.Content != filepath.Join(d.Home(), "snapshots", "5", "fs") ||
		lay.Merged != filepath.Join(s.root, "rootfs", "overlayfs", s.cid) {
		t.Errorf("Layout(5) = %+v", lay)
	}
	for _, c := range []struct {
		p    string
		kind backend.PathKind
		id   string
	}{
		{"", backend.PathDriverHome, ""},
		{"metadata.db", backend.PathDriverBookkeeping, "metadata.db"},
		{"snapshots/5", backend.PathLayerDir, "5"},
		{"snapshots/5/fs", backend.PathLayerContent, "5"},
		{"snapshots/5/fs/etc/x", backend.PathLayerEntry, "5"},
		{"snapshots/5/work/w", backend.PathLayerWork, "5"},
	} {
		var parts []string
		if c.p != "" {
			parts = strings.Split(c.p, "/")
		}
		if x := d.ParsePath(parts); x.Kind != c.kind || x.ID != c.id {
			t.Errorf("ParsePath(%q) = %+v, want %s %q", c.p, x, c.kind, c.id)
		}
	}
}

// TestNoContainerdRoot: a data root whose containerd root is gone is
// still detected, and every read names --containerd-root.
func TestNoContainerdRoot(t *testing.T) {
	s := buildStore(t)
	if err := os.RemoveAll(s.ctr); err != nil {
		t.Fatal(err)
	}
	b := New(Config{})
	if !b.Detect(s.root, layerfs.OS{}) {
		t.Fatal("Detect: false")
	}
	_, err := b.Open(s.root, layerfs.OS{}).Metadata().ImageIDs()
	if err == nil || !strings.Contains(err.Error(), "--containerd-root") {
		t.Errorf("ImageIDs: %v, want an error naming --containerd-root", err)
	}
}

// TestNamespace: another namespace is an error naming --namespace.
func TestNamespace(t *testing.T) {
	s := buildStore(t)
	_, err := New(Config{Namespace: "other"}).Open(s.root, layerfs.OS{}).Metadata().ImageIDs()
	if err == nil || !strings.Contains(err.Error(), "--namespace") {
		t.Errorf("ImageIDs: %v, want an error naming --namespace", err)
	}
}

func sortDigests(ds ...digest.Digest) []digest.Digest {
	slices.Sort(ds)
	return ds
}

// TestOtherSnapshotter: a namespace whose snapshots are another
// snapshotter's is named, never read as overlayfs.
func TestOtherSnapshotter(t *testing.T) {
	s := buildStore(t)
	p := filepath.Join(s.ctr, "io.containerd.metadata.v1.bolt", "meta.db")
	db, err := bolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		sb := tx.Bucket([]byte("v1")).Bucket([]byte("moby")).Bucket([]byte("snapshots"))
		if err := sb.DeleteBucket([]byte("overlayfs")); err != nil {
			return err
		}
		_, err := sb.CreateBucket([]byte("native"))
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{}).Open(s.root, layerfs.OS{}).Metadata().ImageIDs()
	if !errors.Is(err, ErrOtherSnapshotter) || !strings.Contains(err.Error(), "native") {
		t.Errorf("ImageIDs: %v, want ErrOtherSnapshotter naming native", err)
	}
}
