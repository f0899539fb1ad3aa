package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// c8vRun are the classic build's RUN steps: a dir with files; then new
// files and dirs, a deleted base applet (a whiteout in the layer), and the
// first step's dir deleted and made again (an opaque dir in the build
// container's upper dir), a setuid file.
const c8vRun = "RUN mkdir -p /opt/o && echo 1 > /opt/o/1 && echo 2 > /opt/o/2\n" +
	"RUN mkdir -p /data/dir && echo hi > /data/a && echo sub > /data/dir/f && " +
	"rm /bin/vi && rm -r /opt/o && mkdir /opt/o && echo 3 > /opt/o/3 && chmod 4755 /data/a"

// The layers of c8v-app:1, from 0: the import, the two RUN steps, COPY.
const (
	c8vRun2 = 2
	c8vCopy = 3
)

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
	Kind          string `json:"kind"`
	DockerDetects bool   `json:"docker_detects"`
	ObjectType    string `json:"object_type"`
	Object        string `json:"object"`
	Path          string `json:"path"`
	Affects       struct {
		Images     []string `json:"images"`
		Containers []string `json:"containers"`
	} `json:"affects"`
}

// c8vVerify runs dlayer verify on root (its containerd root beside it).
func c8vVerify(t testing.TB, root string, args ...string) (verifyOut, int) {
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
	zstdImage := loadZstdImage(t, e)
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
	if len(app.RootFS.Layers) != 4 {
		t.Fatalf("c8v-app:1 has %d layers, want 4 (base, RUN, RUN, COPY)", len(app.RootFS.Layers))
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

	t.Run("facts", func(t *testing.T) { pinRunLayerFacts(t, root, ctrRoot) })
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
		if len(m.Layers) != 4 {
			t.Fatalf("the manifest of c8v-app:1 has %d layers, want 4", len(m.Layers))
		}
		blob := m.Layers[c8vRun2].Digest
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
	t.Run("docker save of a changed blob", func(t *testing.T) {
		// On a second engine over a copy with the RUN layer's blob
		// changed, docker save still succeeds (it exports the blob as it
		// is): blob_digest_mismatch is no finding Docker's own commands
		// make (docker_detects false).
		dir := t.TempDir()
		for _, src := range []string{root, ctrRoot} {
			if out, err := exec.Command("cp", "-a", src, filepath.Join(dir, filepath.Base(src))).CombinedOutput(); err != nil {
				t.Fatalf("cp -a: %v\n%s", err, out)
			}
		}
		cr := filepath.Join(dir, filepath.Base(ctrRoot))
		var m struct {
			Layers    []struct{ Digest digest.Digest }
			Manifests []struct{ Digest digest.Digest }
		}
		readBlobJSON(t, cr, manifestOf(t, e, cr, "c8v-app:1"), &m)
		if len(m.Manifests) > 0 {
			readBlobJSON(t, cr, m.Manifests[0].Digest, &m)
		}
		blob := m.Layers[c8vCopy].Digest
		flipByte(t, filepath.Join(cr, "io.containerd.content.v1.content", "blobs", "sha256", blob.Encoded()), 20)
		v, code := c8vVerify(t, filepath.Join(dir, filepath.Base(root)))
		f := findKind(t, v, "blob_digest_mismatch", blob.String())
		if code != 1 || f.DockerDetects {
			t.Errorf("verify: exit %d, %+v", code, f)
		}
		e2 := engine.ForTestWith(t, dir, engine.Options{Kind: engine.Docker29})
		err := e2.API("GET", "/images/get?names=c8v-app:1", nil, nil)
		t.Logf("docker save c8v-app:1 with blob %s changed: %v", blob, err)
		if err != nil {
			t.Errorf("docker save failed on a changed blob (%v): then Docker detects it, and docker_detects must say so", err)
		}
	})
	t.Run("snapshot file changed", func(t *testing.T) {
		cp, _ := copyRoots(t)
		fsDir := layerDir(t, cp, "c8v-app:1", c8vCopy+1)
		p := filepath.Join(fsDir, "data", "note.txt")
		flipByte(t, p, 0)
		v, code := c8vVerify(t, cp)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		f := findKind(t, v, "content_mismatch", chains[c8vCopy].String())
		if f.Path != "/data/note.txt" || !subset(appAll, f.Affects.Images) || !subset(appCtrs, f.Affects.Containers) {
			t.Errorf("content_mismatch: %+v: want layer %s, /data/note.txt, affecting %v and %v", f, chains[c8vCopy], appAll, appCtrs)
		}
		for _, f := range v.Findings {
			if f.Object != chains[c8vCopy].String() {
				t.Errorf("a finding about another object than the changed layer: %+v", f)
			}
		}
	})
	t.Run("zstd snapshot file changed", func(t *testing.T) {
		cp, _ := copyRoots(t)
		fsDir := layerDir(t, cp, "c8v-zstd:1", 1)
		flipByte(t, filepath.Join(fsDir, "z", "data"), 3)
		v, code := c8vVerify(t, cp)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		f := findKind(t, v, "content_mismatch", zstdImage.chain)
		if f.Path != "/z/data" || !slices.Equal(f.Affects.Images, []string{"c8v-zstd:1"}) {
			t.Errorf("content_mismatch: %+v", f)
		}
	})
	t.Run("snapshot parent changed", func(t *testing.T) {
		// the COPY layer's snapshot re-parented onto the base layer: its
		// chain is no longer the image's
		cp, cr := copyRoots(t)
		db, err := bolt.Open(filepath.Join(cr, "io.containerd.metadata.v1.bolt", "meta.db"), 0o600, &bolt.Options{Timeout: time.Second})
		must(t, err)
		must(t, db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("v1")).Bucket([]byte(engine.Namespace)).Bucket([]byte("snapshots")).Bucket([]byte("overlayfs")).Bucket([]byte(chains[c8vCopy]))
			return b.Put([]byte("parent"), []byte(chains[0]))
		}))
		must(t, db.Close())
		v, code := c8vVerify(t, cp)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		f := findKind(t, v, "lower_mismatch", chains[c8vCopy].String())
		if !subset(appAll, f.Affects.Images) || !subset(appCtrs, f.Affects.Containers) {
			t.Errorf("lower_mismatch: %+v", f)
		}
	})
	t.Run("build init snapshot dir removed", func(t *testing.T) {
		// the -init of the build container the second RUN layer sits on:
		// in no image, but under every image and container built on it
		cp, cr := copyRoots(t)
		meta := filepath.Join(cr, "io.containerd.metadata.v1.bolt", "meta.db")
		init := snapshotParent(t, meta, chains[c8vRun2].String())
		dir := filepath.Join(cr, "io.containerd.snapshotter.v1.overlayfs", "snapshots", snapshotID(t, cr, init))
		must(t, os.RemoveAll(dir))
		v, code := c8vVerify(t, cp)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		f := findKind(t, v, "cache_dir_missing", chains[c8vRun2].String())
		if f.Path != dir || !slices.Equal(f.Affects.Images, appAll) || !slices.Equal(f.Affects.Containers, appCtrs) {
			t.Errorf("cache_dir_missing: %+v: want %s (%s), breaking %v and %v", f, dir, init, appAll, appCtrs)
		}
	})
	t.Run("whiteout removed", func(t *testing.T) {
		cp, _ := copyRoots(t)
		fsDir := layerDir(t, cp, "c8v-app:1", c8vRun2+1) // rm /bin/vi
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
		f := findKind(t, v, "whiteout_missing", chains[c8vRun2].String())
		if f.Path != "/bin/vi" || !subset(appAll, f.Affects.Images) || !subset(appCtrs, f.Affects.Containers) {
			t.Errorf("whiteout_missing: %+v", f)
		}
	})
	t.Run("snapshot dir removed", func(t *testing.T) {
		cp, _ := copyRoots(t)
		dir := filepath.Dir(layerDir(t, cp, "c8v-app:1", c8vCopy+1))
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		v, code := c8vVerify(t, cp)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		f := findKind(t, v, "cache_dir_missing", chains[c8vCopy].String())
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

// pinRunLayerFacts pins what verify relies on for a classic-builder RUN
// layer (docs/facts.md "Snapshot chains", "Layer blobs"): its snapshot is
// the build container's rw snapshot, committed on that container's -init
// (which holds /.dockerenv); its blob is gzip (the manifest says
// tar+gzip or the Docker media type) and its tar is the diff against the
// -init, so none of the -init's files are in it; a deleted file is a
// .wh. entry and a char 0/0 device in fs/; a dir deleted and made again is
// no .wh..wh..opq but a .wh. entry per deleted child, and fs/ agrees: a
// char 0/0 device each, no opaque xattr.
func pinRunLayerFacts(t *testing.T, root, ctrRoot string) {
	out, errOut, code := runCLI("--root", root, "--daemon", "off", "--mountinfo", "none", "--format", "json", "explain", "c8v-run")
	if code != 0 {
		t.Fatalf("explain c8v-run: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"unowned"`) {
		t.Errorf("explain c8v-run: the build container's -init is not in the stack as unowned:\n%s", out)
	}
	lb := layerBlobOf(t, root, ctrRoot, "c8v-app:1", c8vRun2)
	if lb.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" && lb.MediaType != "application/vnd.docker.image.rootfs.diff.tar.gzip" {
		t.Errorf("RUN layer media type %s", lb.MediaType)
	}
	f, err := os.Open(filepath.Join(ctrRoot, "io.containerd.content.v1.content", "blobs", "sha256", lb.Digest.Encoded()))
	must(t, err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	must(t, err)
	tr := tar.NewReader(z)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		names = append(names, strings.TrimPrefix(h.Name, "./"))
	}
	t.Logf("RUN layer tar: %q", names)
	for _, n := range []string{"bin/.wh.vi", "opt/o/.wh.1", "opt/o/.wh.2", "opt/o/3", "data/a"} {
		if !slices.Contains(names, n) {
			t.Errorf("the RUN layer's tar has no %s: %q", n, names)
		}
	}
	if slices.Contains(names, "opt/o/.wh..wh..opq") {
		t.Errorf("the RUN layer's tar makes the re-made dir opaque: %q", names)
	}
	for _, n := range names {
		if n == ".dockerenv" || strings.HasPrefix(n, "etc/") || strings.HasPrefix(n, "dev/") {
			t.Errorf("the RUN layer's tar has the build container's -init entry %s", n)
		}
	}
	fsDir := filepath.Join(ctrRoot, "io.containerd.snapshotter.v1.overlayfs", "snapshots", lb.snapshot, "fs")
	for _, p := range []string{"bin/vi", "opt/o/1", "opt/o/2"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(fsDir, p), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
			t.Errorf("fs/%s: %v, mode %o rdev %d: want a char 0/0 whiteout", p, err, st.Mode, st.Rdev)
		}
	}
	v := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(fsDir, "opt", "o"), "trusted.overlay.opaque", v); err == nil {
		t.Errorf("fs/opt/o: trusted.overlay.opaque %q: the re-made dir is opaque in the snapshot, its tar lists whiteouts", v[:n])
	}
	meta := filepath.Join(ctrRoot, "io.containerd.metadata.v1.bolt", "meta.db")
	if parent := snapshotParent(t, meta, lb.chain); !strings.HasSuffix(parent, "-init") {
		t.Errorf("the RUN layer's snapshot's parent is %q, want a build container's -init", parent)
	}
	if _, err := os.Lstat(filepath.Join(fsDir, ".dockerenv")); err == nil {
		t.Error("the RUN layer's fs/ holds /.dockerenv: it belongs to the -init below")
	}
}

// runBlob is a layer's blob, its snapshot's dir number and its ChainID.
type runBlob struct {
	Digest    digest.Digest
	MediaType string
	snapshot  string
	chain     string
}

// snapshotParent is the parent key of snapshot key in meta.db (read from
// a private copy).
func snapshotParent(t *testing.T, meta, key string) string {
	cp := filepath.Join(t.TempDir(), "meta.db")
	if out, err := exec.Command("cp", meta, cp).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	db, err := bolt.Open(cp, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	must(t, err)
	defer db.Close()
	var parent string
	must(t, db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("v1")).Bucket([]byte(engine.Namespace)).Bucket([]byte("snapshots")).Bucket([]byte("overlayfs")).Bucket([]byte(key))
		if b != nil {
			parent = string(b.Get([]byte("parent")))
		}
		return nil
	}))
	return parent
}

// layerBlobOf is the blob of layer i (0 = base) of image ref, from its
// manifest, and the layer's snapshot dir number (dlayer layers).
func layerBlobOf(t *testing.T, root, ctrRoot, ref string, i int) runBlob {
	var m struct {
		Layers    []runBlob
		Manifests []struct{ Digest digest.Digest }
	}
	out, errOut, code := runCLI("--root", root, "--daemon", "off", "--mountinfo", "none", "--format", "json", "layers", ref)
	var x struct {
		Image struct {
			ID digest.Digest `json:"id"`
		} `json:"image"`
		Layers []struct {
			CacheID string `json:"cache_id"`
			ChainID string `json:"chain_id"`
		} `json:"layers"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &x) != nil || len(x.Layers) <= i {
		t.Fatalf("dlayer layers %s: exit %d: %s", ref, code, errOut)
	}
	readBlobJSON(t, ctrRoot, x.Image.ID, &m)
	if len(m.Manifests) > 0 {
		readBlobJSON(t, ctrRoot, m.Manifests[0].Digest, &m)
	}
	if len(m.Layers) <= i {
		t.Fatalf("%s: manifest has %d layers", ref, len(m.Layers))
	}
	b := m.Layers[i]
	b.snapshot, b.chain = x.Layers[i].CacheID, x.Layers[i].ChainID
	return b
}

// zstdLoaded is the image loadZstdImage loaded.
type zstdLoaded struct{ chain string }

// loadZstdImage makes an OCI image layout whose one layer is a zstd blob
// (tar+zstd: /z/data, /z/link, /z/sub/), docker loads it as c8v-zstd:1
// (the containerd store keeps the blob as it is and unpacks it), and
// checks that the manifest the store keeps names the zstd blob.
func loadZstdImage(t *testing.T, e *engine.Engine) zstdLoaded {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	mt := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, h := range []*tar.Header{
		{Name: "z/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mt},
		{Name: "z/data", Typeflag: tar.TypeReg, Mode: 0o640, Size: 2 << 20, ModTime: mt},
		{Name: "z/link", Typeflag: tar.TypeSymlink, Linkname: "data", Mode: 0o777, ModTime: mt},
		{Name: "z/sub/", Typeflag: tar.TypeDir, Mode: 0o2750, Uid: 7, Gid: 8, ModTime: mt},
	} {
		must(t, tw.WriteHeader(h))
		if h.Size > 0 {
			_, err := tw.Write(bytes.Repeat([]byte("zstd layer data "), int(h.Size)/16))
			must(t, err)
		}
	}
	must(t, tw.Close())
	diff := digest.FromBytes(layer.Bytes())
	var zb bytes.Buffer
	zw, err := zstd.NewWriter(&zb)
	must(t, err)
	_, err = zw.Write(layer.Bytes())
	must(t, err)
	must(t, zw.Close())
	blobs := map[digest.Digest][]byte{}
	put := func(b []byte) (digest.Digest, int) {
		d := digest.FromBytes(b)
		blobs[d] = b
		return d, len(b)
	}
	zd, zn := put(zb.Bytes())
	cfg, _ := json.Marshal(map[string]any{"architecture": runtime.GOARCH, "os": "linux", "created": mt,
		"config":  map[string]any{"Cmd": []string{"/z/data"}},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []digest.Digest{diff}},
		"history": []map[string]any{{"created": mt, "created_by": "zstd layer (dlayer e2e)"}}})
	cd, cn := put(cfg)
	man, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
		"layers": []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": zd, "size": zn}}})
	md, mn := put(man)
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []map[string]any{{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
			"annotations": map[string]string{"io.containerd.image.name": "docker.io/library/c8v-zstd:1", "org.opencontainers.image.ref.name": "1"}}}})
	var arch bytes.Buffer
	aw := tar.NewWriter(&arch)
	file := func(name string, b []byte) {
		must(t, aw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b)), ModTime: mt}))
		_, err := aw.Write(b)
		must(t, err)
	}
	file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	file("index.json", index)
	for d, b := range blobs {
		file("blobs/sha256/"+d.Encoded(), b)
	}
	must(t, aw.Close())
	if out, err := e.DockerStdin(&arch, "load"); err != nil {
		t.Fatalf("docker load: %v\n%s", err, out)
	}
	var img struct {
		RootFS struct{ Layers []digest.Digest }
	}
	must(t, e.API("GET", "/images/c8v-zstd:1/json", nil, &img))
	if len(img.RootFS.Layers) != 1 || img.RootFS.Layers[0] != diff {
		t.Fatalf("c8v-zstd:1 diff IDs %v, want [%s]", img.RootFS.Layers, diff)
	}
	b, err := os.ReadFile(filepath.Join(e.ContainerdRoot(), "io.containerd.content.v1.content", "blobs", "sha256", zd.Encoded()))
	if err != nil || digest.FromBytes(b) != zd {
		t.Fatalf("the content store does not keep the zstd blob %s as loaded: %v", zd, err)
	}
	return zstdLoaded{chain: diff.String()}
}

// snapshotID is the snapshots/<n> dir number of snapshot key: meta.db
// gives its backend key, the snapshotter's metadata.db its id (both read
// from private copies).
func snapshotID(t *testing.T, ctrRoot, key string) string {
	open := func(p string) *bolt.DB {
		cp := filepath.Join(t.TempDir(), filepath.Base(p))
		if out, err := exec.Command("cp", p, cp).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
		db, err := bolt.Open(cp, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		must(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	var name string
	must(t, open(filepath.Join(ctrRoot, "io.containerd.metadata.v1.bolt", "meta.db")).View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("v1")).Bucket([]byte(engine.Namespace)).Bucket([]byte("snapshots")).Bucket([]byte("overlayfs")).Bucket([]byte(key))
		if b == nil {
			t.Fatalf("no snapshot %s in meta.db", key)
		}
		name = string(b.Get([]byte("name")))
		return nil
	}))
	var id uint64
	must(t, open(filepath.Join(ctrRoot, "io.containerd.snapshotter.v1.overlayfs", "metadata.db")).View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("v1")).Bucket([]byte("snapshots")).Bucket([]byte(name))
		if b == nil {
			t.Fatalf("no snapshot %s in metadata.db", name)
		}
		id, _ = binary.Uvarint(b.Get([]byte("id")))
		return nil
	}))
	return strconv.FormatUint(id, 10)
}
