package e2e

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// c8vRun is the classic build's RUN step: new files and dirs, a deleted
// base applet (a whiteout in the layer), and a base dir deleted and made
// again (an opaque dir in the build container's upper dir).
const c8vRun = "RUN mkdir -p /data/dir && echo hi > /data/a && echo sub > /data/dir/f && " +
	"rm /bin/vi && rm -r /usr/bin && mkdir /usr/bin && echo u > /usr/bin/u && chmod 4755 /data/a"

// verifyOut is the part of verify's JSON the tests read.
type verifyOut struct {
	Stats struct {
		Images, Layers, Containers int
		LayersHashed               int   `json:"layers_hashed"`
		Entries                    int64 `json:"entries"`
		Blobs                      int   `json:"blobs"`
		BlobsHashed                int   `json:"blobs_hashed"`
		BytesHashed                int64 `json:"bytes_hashed"`
		BlobBytes                  int64 `json:"blob_bytes_hashed"`
	} `json:"stats"`
	Complete bool       `json:"complete"`
	Findings []vFinding `json:"findings"`
}

// vFinding is one finding of verify's JSON.
type vFinding struct {
	Kind       string `json:"kind"`
	ObjectType string `json:"object_type"`
	Object     string `json:"object"`
	Path       string `json:"path"`
	Affects    struct {
		Images     []string `json:"images"`
		Containers []string `json:"containers"`
	} `json:"affects"`
}

// c8vVerify runs dlayer verify on root (its containerd root beside it).
func c8vVerify(t *testing.T, root string, args ...string) (verifyOut, int) {
	t.Helper()
	out, errOut, code := runCLI(append([]string{"--root", root, "--daemon", "off", "--mountinfo", "none", "--format", "json", "verify"}, args...)...)
	var v verifyOut
	if code != 0 && code != 1 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("dlayer verify %s: exit %d\n%s\n%s", root, code, out, errOut)
	}
	return v, code
}

// TestContainerdVerifyE2E: dlayer verify on Docker 29's containerd image
// store. A private engine with an imported base, a classic-builder image
// (RUN with a deleted file and a re-made dir, COPY), a BuildKit image on
// it, and a running, a stopped and a created container: verify passes
// and checks every content blob and every committed layer snapshot (the
// counts meta.db and the content store give); then, each on its own cp -a
// copy of both roots, one changed byte of a layer blob, a changed file in
// a snapshot's fs/, a removed whiteout and a removed snapshot dir are each
// found, named, with what they break.
func TestContainerdVerifyE2E(t *testing.T) {
	e := engine.ForTestWith(t, "", engine.Options{Kind: engine.Docker29})
	if _, err := e.ImportBusybox("c8v-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("c8v-app:1", "FROM c8v-base:1\n"+c8vRun+"\nCOPY note.txt /data/note.txt\n",
		map[string]string{"note.txt": "from the context\n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.BuildKit("c8v-bk:1", "FROM c8v-app:1\nRUN echo bk > /data/bk && rm /data/dir/f\n", nil); err != nil {
		t.Fatal(err)
	}
	d := func(args ...string) string {
		t.Helper()
		out, err := e.Docker(args...)
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(out)
	}
	d("create", "--network", "none", "--name", "c8v-created", "c8v-app:1", "true")
	d("run", "-d", "--network", "none", "--name", "c8v-run", "c8v-app:1", "sleep", "600")
	d("exec", "c8v-run", "sh", "-c", "echo more >> /data/a && rm /data/note.txt")
	d("run", "--network", "none", "--name", "c8v-stopped", "c8v-bk:1", "sh", "-c", "echo x >> /data/bk")
	var app struct {
		RootFS struct{ Layers []digest.Digest }
	}
	if err := e.API("GET", "/images/c8v-app:1/json", nil, &app); err != nil {
		t.Fatal(err)
	}
	if len(app.RootFS.Layers) != 3 {
		t.Fatalf("c8v-app:1 has %d layers, want 3 (base, RUN, COPY)", len(app.RootFS.Layers))
	}
	chains := chainIDs(app.RootFS.Layers)
	root, ctrRoot := e.Root(), e.ContainerdRoot()

	t.Run("live", func(t *testing.T) {
		v, code := c8vVerify(t, root)
		if code != 0 || len(v.Findings) != 0 {
			t.Fatalf("verify of the live store: exit %d, findings %+v", code, v.Findings)
		}
		measureSave(t, e, root)
	})
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	blobs, committed := ctrdCounts(t, ctrRoot)
	t.Logf("content store: %d blobs; meta.db: %d committed snapshots keyed by a ChainID", blobs, committed)

	t.Run("daemons stopped", func(t *testing.T) {
		v, code := c8vVerify(t, root)
		if code != 0 || len(v.Findings) != 0 || !v.Complete {
			t.Fatalf("exit %d, complete %v, findings %+v", code, v.Complete, v.Findings)
		}
		if v.Stats.Blobs != blobs || v.Stats.BlobsHashed != blobs {
			t.Errorf("blobs %d, hashed %d: the content store has %d", v.Stats.Blobs, v.Stats.BlobsHashed, blobs)
		}
		if v.Stats.Layers != committed || v.Stats.LayersHashed != committed {
			t.Errorf("layers %d, hashed %d: meta.db has %d committed snapshots keyed by a ChainID", v.Stats.Layers, v.Stats.LayersHashed, committed)
		}
		if v.Stats.Containers != 3 || v.Stats.Entries == 0 || v.Stats.BlobBytes == 0 {
			t.Errorf("stats %+v", v.Stats)
		}
		q, code := c8vVerify(t, root, "--quick")
		if code != 0 || q.Stats.BlobsHashed != 0 || q.Stats.LayersHashed != 0 || q.Stats.Blobs != blobs {
			t.Errorf("--quick: exit %d, stats %+v: no blob or layer content is read", code, q.Stats)
		}
	})

	// copyRoots copies both roots (daemons stopped) into a fresh dir.
	copyRoots := func(t *testing.T) (string, string) {
		dir := t.TempDir()
		for _, src := range []string{root, ctrRoot} {
			if out, err := exec.Command("cp", "-a", src, filepath.Join(dir, filepath.Base(src))).CombinedOutput(); err != nil {
				t.Fatalf("cp -a: %v\n%s", err, out)
			}
		}
		return filepath.Join(dir, filepath.Base(root)), filepath.Join(dir, filepath.Base(ctrRoot))
	}
	layerDir := func(t *testing.T, root, image string, pos int) string {
		out, errOut, code := runCLI("--root", root, "--daemon", "off", "--mountinfo", "none", "--format", "json", "layers", image)
		var x struct {
			Layers []struct {
				ChainID string `json:"chain_id"`
				DiffDir string `json:"diff_dir"`
			} `json:"layers"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &x) != nil || len(x.Layers) < pos {
			t.Fatalf("dlayer layers %s: exit %d\n%s\n%s", image, code, out, errOut)
		}
		if x.Layers[pos-1].ChainID != chains[pos-1].String() && image == "c8v-app:1" {
			t.Fatalf("layer %d of %s is %s, want %s", pos, image, x.Layers[pos-1].ChainID, chains[pos-1])
		}
		return x.Layers[pos-1].DiffDir
	}
	appAll := []string{"c8v-app:1", "c8v-bk:1"}
	appCtrs := []string{"c8v-created", "c8v-run", "c8v-stopped"}

	t.Run("blob byte changed", func(t *testing.T) {
		_, cr := copyRoots(t)
		var m struct {
			Layers    []struct{ Digest digest.Digest }
			Manifests []struct{ Digest digest.Digest }
		}
		readBlobJSON(t, cr, manifestOf(t, e, cr, "c8v-app:1"), &m)
		if len(m.Manifests) > 0 { // an index: its (one) image manifest
			readBlobJSON(t, cr, m.Manifests[0].Digest, &m)
		}
		if len(m.Layers) != 3 {
			t.Fatalf("the manifest of c8v-app:1 has %d layers, want 3", len(m.Layers))
		}
		blob := m.Layers[1].Digest // the RUN layer's
		p := filepath.Join(cr, "io.containerd.content.v1.content", "blobs", "sha256", blob.Encoded())
		flipByte(t, p, 40)
		v, code := c8vVerify(t, filepath.Join(filepath.Dir(cr), filepath.Base(root)))
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		f := findKind(t, v, "blob_digest_mismatch", blob.String())
		if f.ObjectType != "blob" || f.Path != p || !subset(appAll, f.Affects.Images) || !subset(appCtrs, f.Affects.Containers) {
			t.Errorf("blob_digest_mismatch: %+v: want blob %s at %s, affecting %v and %v", f, blob, p, appAll, appCtrs)
		}
	})
	t.Run("snapshot file changed", func(t *testing.T) {
		cp, _ := copyRoots(t)
		fsDir := layerDir(t, cp, "c8v-app:1", 3) // the COPY layer
		p := filepath.Join(fsDir, "data", "note.txt")
		flipByte(t, p, 0)
		v, code := c8vVerify(t, cp)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		f := findKind(t, v, "content_mismatch", chains[2].String())
		if f.Path != "/data/note.txt" || !subset(appAll, f.Affects.Images) || !subset(appCtrs, f.Affects.Containers) {
			t.Errorf("content_mismatch: %+v: want layer %s, /data/note.txt, affecting %v and %v", f, chains[2], appAll, appCtrs)
		}
		for _, f := range v.Findings {
			if f.Object != chains[2].String() {
				t.Errorf("a finding about another object than the changed layer: %+v", f)
			}
		}
	})
	t.Run("whiteout removed", func(t *testing.T) {
		cp, _ := copyRoots(t)
		fsDir := layerDir(t, cp, "c8v-app:1", 2) // the RUN layer: rm /bin/vi
		p := filepath.Join(fsDir, "bin", "vi")
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("the RUN layer's /bin/vi is not a whiteout device: %v %v", fi, err)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		v, code := c8vVerify(t, cp)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		f := findKind(t, v, "whiteout_missing", chains[1].String())
		if f.Path != "/bin/vi" || !subset(appAll, f.Affects.Images) || !subset(appCtrs, f.Affects.Containers) {
			t.Errorf("whiteout_missing: %+v", f)
		}
	})
	t.Run("snapshot dir removed", func(t *testing.T) {
		cp, _ := copyRoots(t)
		dir := filepath.Dir(layerDir(t, cp, "c8v-app:1", 3))
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		v, code := c8vVerify(t, cp)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		f := findKind(t, v, "cache_dir_missing", chains[2].String())
		if f.Path != dir || !slices.Equal(f.Affects.Images, appAll) || !slices.Equal(f.Affects.Containers, appCtrs) {
			t.Errorf("cache_dir_missing: %+v: want %s, breaking %v and %v", f, dir, appAll, appCtrs)
		}
	})
}

// chainIDs are the ChainIDs of diff IDs, base first.
func chainIDs(diffs []digest.Digest) []digest.Digest {
	var out []digest.Digest
	for i, d := range diffs {
		if i == 0 {
			out = append(out, d)
			continue
		}
		out = append(out, digest.FromString(out[i-1].String()+" "+d.String()))
	}
	return out
}

// ctrdCounts counts the content store's blobs and the committed
// snapshots keyed by a ChainID, from private copies of meta.db and the
// snapshotter's metadata.db.
func ctrdCounts(t *testing.T, ctrRoot string) (blobs, committed int) {
	ents, err := os.ReadDir(filepath.Join(ctrRoot, "io.containerd.content.v1.content", "blobs", "sha256"))
	must(t, err)
	blobs = len(ents)
	open := func(p string) *bolt.DB {
		cp := filepath.Join(t.TempDir(), filepath.Base(p))
		if out, err := exec.Command("cp", p, cp).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v\n%s", p, err, out)
		}
		db, err := bolt.Open(cp, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		must(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	meta := open(filepath.Join(ctrRoot, "io.containerd.metadata.v1.bolt", "meta.db"))
	snap := open(filepath.Join(ctrRoot, "io.containerd.snapshotter.v1.overlayfs", "metadata.db"))
	names := map[string]string{}
	must(t, meta.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("v1")).Bucket([]byte(engine.Namespace)).Bucket([]byte("snapshots")).Bucket([]byte("overlayfs"))
		return b.ForEachBucket(func(k []byte) error {
			if digest.Digest(k).Validate() == nil {
				names[string(b.Bucket(k).Get([]byte("name")))] = string(k)
			}
			return nil
		})
	}))
	must(t, snap.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("v1")).Bucket([]byte("snapshots"))
		return b.ForEachBucket(func(k []byte) error {
			if _, ok := names[string(k)]; ok && slices.Equal(b.Bucket(k).Get([]byte("kind")), []byte{3}) {
				committed++
			}
			return nil
		})
	}))
	return blobs, committed
}

// manifestOf is the digest of image ref's manifest: its target in
// meta.db (the image ID in this store), read from the engine's answer
// recorded before it stopped.
func manifestOf(t *testing.T, e *engine.Engine, ctrRoot, ref string) digest.Digest {
	t.Helper()
	out, errOut, code := runCLI("--root", filepath.Join(filepath.Dir(ctrRoot), filepath.Base(e.Root())), "--daemon", "off", "--mountinfo", "none",
		"--format", "json", "layers", ref)
	var x struct {
		Image struct {
			ID digest.Digest `json:"id"`
		} `json:"image"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &x) != nil {
		t.Fatalf("dlayer layers %s: exit %d\n%s", ref, code, errOut)
	}
	return x.Image.ID
}

// readBlobJSON decodes blob d of the content store.
func readBlobJSON(t *testing.T, ctrRoot string, d digest.Digest, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ctrRoot, "io.containerd.content.v1.content", "blobs", "sha256", d.Encoded()))
	must(t, err)
	must(t, json.Unmarshal(b, v))
}

// flipByte flips one bit of the byte at off of file p (in a copy),
// keeping its size and mtime.
func flipByte(t *testing.T, p string, off int64) {
	t.Helper()
	fi, err := os.Lstat(p)
	must(t, err)
	must(t, os.Chmod(p, fi.Mode().Perm()|0o200))
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	must(t, err)
	b := make([]byte, 1)
	_, err = f.ReadAt(b, off)
	must(t, err)
	b[0] ^= 1
	_, err = f.WriteAt(b, off)
	must(t, err)
	must(t, f.Close())
	must(t, os.Chmod(p, fi.Mode().Perm()))
	must(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
}

// findKind returns the finding of kind about object.
func findKind(t *testing.T, v verifyOut, kind, object string) vFinding {
	t.Helper()
	for _, f := range v.Findings {
		if f.Kind == kind && f.Object == object {
			return f
		}
	}
	t.Fatalf("no %s finding about %s among %+v", kind, object, v.Findings)
	return vFinding{}
}

// subset reports whether every one of want is in got.
func subset(want, got []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

// measureSave logs how long dlayer verify and docker save of every image
// take on the live engine: docker save is GET /images/get with every
// image, its tar stream discarded (the docker CLI of this engine refuses
// -o /dev/null).
func measureSave(t *testing.T, e *engine.Engine, root string) {
	var ims []struct {
		RepoTags []string
	}
	must(t, e.API("GET", "/images/json", nil, &ims))
	q := url.Values{}
	for _, im := range ims {
		for _, r := range im.RepoTags {
			q.Add("names", r)
		}
	}
	start := time.Now()
	if _, errOut, code := runCLI("--root", root, "--daemon", "off", "--mountinfo", "none", "verify", "--quiet"); code != 0 {
		t.Fatalf("verify: exit %d: %s", code, errOut)
	}
	ver := time.Since(start)
	start = time.Now()
	must(t, e.API("GET", "/images/get?"+q.Encode(), nil, nil))
	t.Logf("MEASURE dlayer verify %v; docker save (GET /images/get, discarded) %v (%s)", ver, time.Since(start), strings.Join(q["names"], " "))
}
