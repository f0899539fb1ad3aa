package containerd

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// store is fixtures.BuildContainerd's store, with the names the tests use.
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
	c, err := fixtures.BuildContainerd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return store{root: c.Root, ctr: c.ContainerdRoot, cid: c.ContainerID, d1: c.DiffIDs[0], d2: c.DiffIDs[1],
		c1: c.ChainIDs[0], c2: c.ChainIDs[1], app: c.App, base: c.Base, appConfig: c.AppConfig}
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
	if err != nil || l.CacheID != "3" || l.DiffID != s.d2 || l.Parent != s.c1 || l.Size <= 0 {
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
