package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/du"
)

// TestContainerdStoreCLI: the commands of part 1 on a containerd image
// store built by code (fixtures.BuildContainerd; no root, no engine — the
// real engine's is e2e TestContainerdStoreE2E): the containerd root is
// derived from --root, a build container's -init snapshot is in the stack
// without a finding, mounts maps a rootfs mount to its container, and du
// and verify say they do not read it yet.
func TestContainerdStoreCLI(t *testing.T) {
	engine.NeedRoot(t, "as non-root, diff, explain and whose say on stderr that the kernel hides trusted.* xattrs, which this test reads as output")
	c, err := fixtures.BuildContainerd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g := []string{"--root", c.Root, "--daemon", "off", "--mountinfo", "none"}
	cli := func(want int, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(append(g, args...)...)
		if code != want {
			t.Fatalf("dlayer %v: exit %d, want %d: %s%s", args, code, want, out, errOut)
		}
		return out + errOut
	}
	if out := cli(0, "ps"); !strings.Contains(out, "c8d") || !strings.Contains(out, "overlayfs") || !strings.Contains(out, "exited (0)") {
		t.Errorf("ps:\n%s", out)
	}
	if out := cli(0, "images"); !strings.Contains(out, "app:1") || !strings.Contains(out, "<none> (intermediate)") {
		t.Errorf("images:\n%s", out)
	}
	if out := cli(0, "layers", "app:1"); !strings.Contains(out, "mkdir /data") || !strings.Contains(out, "Imported from -") {
		t.Errorf("layers:\n%s", out)
	}
	if out := cli(0, "diff", "c8d"); out != "C /data\nA /data/new\n" {
		t.Errorf("diff: %q", out)
	}
	x := explainJSON(t, c.Root, "off", "c8d")
	var roles []string
	for _, l := range x.Layers {
		roles = append(roles, string(l.Role)+":"+l.CacheID)
	}
	if strings.Join(roles, " ") != "rw:5 init:4 image:3 unowned:2 image:1" {
		t.Errorf("explain stack %v", roles)
	}
	for _, f := range x.Findings {
		t.Errorf("explain: unexpected finding %+v", f)
	}
	if ch := findCtrdChange(x, "/data/new"); ch == nil || ch.Kind != inspect.ChangeKind("added") {
		t.Errorf("explain /data/new: %+v", ch)
	}
	home := filepath.Join(c.ContainerdRoot, "io.containerd.snapshotter.v1.overlayfs")
	for dir, owner := range map[string]string{"5": "rw_layer", "4": "init_layer", "3": "image_layer", "2": "unowned_lower", "1": "image_layer",
		"6": "build_cache", "7": "orphan"} {
		var a struct{ Owner struct{ Kind string } }
		if err := json.Unmarshal([]byte(cli(0, "--format", "json", "whose", filepath.Join(home, "snapshots", dir))), &a); err != nil {
			t.Fatal(err)
		}
		if a.Owner.Kind != owner {
			t.Errorf("whose snapshots/%s: owner %s, want %s", dir, a.Owner.Kind, owner)
		}
	}
	// verify reads the store: the fixture's layers have no blobs (their
	// manifests name blobs the content store lacks), so their snapshots
	// cannot be checked; every other blob is re-hashed.
	var vr struct {
		Stats struct {
			Blobs       int `json:"blobs"`
			BlobsHashed int `json:"blobs_hashed"`
		}
		Findings []struct{ Kind, Object string }
	}
	if err := json.Unmarshal([]byte(cli(exitFindings, "--format", "json", "verify")), &vr); err != nil {
		t.Fatal(err)
	}
	if len(vr.Findings) != 2 || vr.Stats.Blobs != 4 || vr.Stats.BlobsHashed != 4 {
		t.Errorf("verify: %+v: want 2 findings (layer_blob_missing of each layer) and 4 blobs re-hashed", vr)
	}
	for _, f := range vr.Findings {
		if f.Kind != "layer_blob_missing" || (f.Object != string(c.ChainIDs[0]) && f.Object != string(c.ChainIDs[1])) {
			t.Errorf("verify: finding %+v", f)
		}
	}
	checkContainerdDU(t, c, cli(0, "--format", "json", "du"))

	// mounts: the exited container's rootfs still mounted at
	// rootfs/overlayfs/<id>, its snapshot the upper dir, is leaked and
	// mapped to its container; its lowers agree with the snapshot chain.
	snaps := filepath.Join(home, "snapshots")
	mi := filepath.Join(t.TempDir(), "mountinfo")
	line := fmt.Sprintf("60 27 0:50 / %s rw,relatime shared:9 - overlay overlay rw,lowerdir=%s/4/fs:%s/3/fs:%s/2/fs:%s/1/fs,upperdir=%s/5/fs,workdir=%s/5/work\n",
		filepath.Join(c.Root, "rootfs", "overlayfs", c.ContainerID), snaps, snaps, snaps, snaps, snaps, snaps)
	must(t, os.WriteFile(mi, []byte(line), 0o644))
	var mr struct {
		Mounts []struct {
			LayerID          string `json:"layer_id"`
			State            string
			Merged           bool
			Container        struct{ ID, Layer string }
			LowerLayers      []string `json:"lower_layers"`
			StoreLowerLayers []string `json:"store_lower_layers"`
		}
		Findings []struct{ Kind, Path string }
	}
	out, errOut, code := runCLI("--root", c.Root, "--daemon", "off", "--mountinfo", mi, "--format", "json", "mounts")
	if code != exitFindings {
		t.Fatalf("mounts: exit %d: %s%s", code, out, errOut)
	}
	must(t, json.Unmarshal([]byte(out), &mr))
	if len(mr.Mounts) != 1 || mr.Mounts[0].LayerID != "5" || !mr.Mounts[0].Merged || mr.Mounts[0].Container.ID != c.ContainerID ||
		mr.Mounts[0].Container.Layer != "rw" || mr.Mounts[0].State != "stopped" ||
		strings.Join(mr.Mounts[0].LowerLayers, ",") != "4,3,2,1" || strings.Join(mr.Mounts[0].StoreLowerLayers, ",") != "4,3,2,1" {
		t.Errorf("mounts: %+v", mr.Mounts)
	}
	if len(mr.Findings) != 1 || mr.Findings[0].Kind != "leaked_mount" {
		t.Errorf("mounts findings: %+v", mr.Findings)
	}

	// A copy of both roots is read from its own containerd root.
	cp := t.TempDir()
	for _, src := range []string{c.Root, c.ContainerdRoot} {
		if out, err := exec.Command("cp", "-a", src, cp).CombinedOutput(); err != nil {
			t.Fatalf("cp -a: %v\n%s", err, out)
		}
	}
	x = explainJSON(t, filepath.Join(cp, "docker"), "off", "c8d")
	if !strings.HasPrefix(x.RWLayer.UpperDir, filepath.Join(cp, "containerd")+"/") {
		t.Errorf("copy: upper dir %s, want it under the copy's containerd root", x.RWLayer.UpperDir)
	}

	// A symlink in a component below the containerd root is never
	// followed: snapshots/5 moved out and linked back.
	outside := t.TempDir()
	snap := filepath.Join(cp, "containerd", "io.containerd.snapshotter.v1.overlayfs", "snapshots", "5")
	must(t, os.Rename(snap, filepath.Join(outside, "5")))
	must(t, os.WriteFile(filepath.Join(outside, "5", "fs", "planted"), []byte("x"), 0o644))
	must(t, os.Symlink(filepath.Join(outside, "5"), snap))
	out, errOut, code = runCLI("--root", filepath.Join(cp, "docker"), "--daemon", "off", "--mountinfo", "none", "diff", "c8d")
	if code == 0 || strings.Contains(out, "planted") || !strings.Contains(errOut, "symlink") {
		t.Errorf("diff through a planted symlink: exit %d\n%s%s", code, out, errOut)
	}

	// No containerd root: the message names the flag.
	must(t, os.RemoveAll(c.ContainerdRoot))
	if out := cli(exitUsage, "images"); !strings.Contains(out, "--containerd-root") {
		t.Errorf("images without a containerd root: %s", out)
	}
	if _, errOut, code := runCLI("--root", c.Root, "--containerd-root", filepath.Join(cp, "nope"), "ps"); code != exitUsage || !strings.Contains(errOut, "--containerd-root") {
		t.Errorf("--containerd-root missing dir: exit %d: %s", code, errOut)
	}
}

func findCtrdChange(x *inspect.Explanation, p string) *inspect.Change {
	for i := range x.Changes {
		if x.Changes[i].Path == p {
			return &x.Changes[i]
		}
	}
	return nil
}

// TestContainerdMixedRoot: a data root holding an overlay2 store and a
// containerd store (a host upgraded to Docker 29 keeps its overlay2
// store, and its containerd root has Docker 29's): ps lists each
// container with its driver, diff and explain read each from its own
// store, and --driver overlayfs reads the containerd store's images.
func TestContainerdMixedRoot(t *testing.T) {
	dir := t.TempDir()
	if _, err := fixtures.Demo().Build(filepath.Join(dir, "docker"), fixtures.Options{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	c, err := fixtures.BuildContainerd(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := []string{"--root", c.Root, "--daemon", "off", "--mountinfo", "none"}
	cli := func(args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(append(g, args...)...)
		if code != 0 {
			t.Fatalf("dlayer %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	ps := cli("ps")
	for _, want := range []string{"c8d", "overlayfs", "web", "overlay2"} {
		if !strings.Contains(ps, want) {
			t.Errorf("ps lacks %q:\n%s", want, ps)
		}
	}
	if out := cli("diff", "c8d"); out != "C /data\nA /data/new\n" {
		t.Errorf("diff c8d: %q", out)
	}
	if out := cli("diff", "web"); !strings.Contains(out, "A /app/new.log") {
		t.Errorf("diff web: %q", out)
	}
	if x := explainJSON(t, c.Root, "off", "c8d"); x.RWLayer.Driver != "overlayfs" || len(x.Findings) != 0 {
		t.Errorf("explain c8d: driver %s, findings %+v", x.RWLayer.Driver, x.Findings)
	}
	if out := cli("--driver", "overlayfs", "images"); !strings.Contains(out, "app:1") || strings.Contains(out, "demo/") {
		t.Errorf("--driver overlayfs images:\n%s", out)
	}
	if out := cli("images"); !strings.Contains(out, "demo/app:2") {
		t.Errorf("images:\n%s", out)
	}
	// du: both stores, each whole: the overlay2 store's audit, and the
	// containerd store's (its own tree) in other_stores; each adds up to
	// du -sxB1 of the data root, the containerd one of its root too
	var r du.Report
	if err := json.Unmarshal([]byte(cli("--format", "json", "du")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Driver != "overlay2" || len(r.OtherStores) != 1 || r.OtherStores[0].Driver != "overlayfs" {
		t.Fatalf("du: driver %s, other stores %d", r.Driver, len(r.OtherStores))
	}
	o := r.OtherStores[0]
	inactive := map[string]bool{}
	for _, d := range o.InactiveDriver {
		inactive[d.Name] = true
	}
	if !inactive["overlay2"] {
		t.Errorf("the containerd store's audit does not charge overlay2/ to the other driver: %+v", o.InactiveDriver)
	}
	for name, got := range map[string]int64{"overlay2 audit, data root": r.Summary.DataRoot.DiskUsage, "containerd audit, data root": o.Summary.DataRoot.DiskUsage} {
		if want := fixtures.DUSXB1(t, c.Root); got != want {
			t.Errorf("%s: dlayer %d, du -sxB1 %d", name, got, want)
		}
	}
	if got, want := o.Summary.StoreTree.DiskUsage, fixtures.DUSXB1(t, c.ContainerdRoot); got != want {
		t.Errorf("containerd root: dlayer %d, du -sxB1 %d", got, want)
	}
	if text := cli("du"); !strings.Contains(text, "This root also holds the overlayfs store") {
		t.Errorf("du text does not show the containerd store:\n%s", text)
	}
	if r := cli("--driver", "overlay2", "--format", "json", "du"); strings.Contains(r, "other_stores") {
		t.Errorf("--driver overlay2 du audits another store too")
	}
	// verify checks both stores: the fixture's containerd layers name
	// blobs it never wrote (layer_blob_missing: exit 1)
	out, errOut, code := runCLI(append(g, "--format", "json", "verify", "--quick")...)
	var v struct {
		Drivers  []string
		Findings []struct{ Kind, Object string }
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 1 {
		t.Fatalf("verify --quick: exit %d, %v: %s", code, err, errOut)
	}
	if strings.Join(v.Drivers, ",") != "overlay2,overlayfs" {
		t.Errorf("verify checked %v, want both stores", v.Drivers)
	}
	for _, f := range v.Findings {
		if f.Kind != "layer_blob_missing" {
			t.Errorf("verify: unexpected finding %+v", f)
		}
	}
}

// checkContainerdDU: du on the fixture's containerd store charges every
// snapshot dir to the owner the snapshot records say, every blob to the
// images that reference it, the orphan dir as an orphan, and adds up to
// du -sxB1 of the data root and of the containerd root.
func checkContainerdDU(t *testing.T, c *fixtures.Containerd, out string) {
	t.Helper()
	var r du.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("du JSON: %v\n%s", err, out)
	}
	for _, f := range r.Findings {
		t.Errorf("du: unexpected finding %+v", f)
	}
	owner := map[string]string{}
	for _, l := range r.Layers {
		owner[l.CacheID] = "layer"
		if l.MeasuredSize != l.Size {
			t.Errorf("layer %s: measured %d, recorded %d", l.ChainID, l.MeasuredSize, l.Size)
		}
	}
	for _, ct := range r.Containers {
		owner[ct.MountID], owner[ct.InitID] = "rw", "init"
	}
	for kind, ds := range map[string][]du.Dir{"build_cache": r.BuildCache, "stack": r.StackDirs, "orphan": r.Orphans} {
		for _, d := range ds {
			if n, ok := strings.CutPrefix(d.Name, "snapshots/"); ok {
				owner[n] = kind
			}
		}
	}
	want := map[string]string{"1": "layer", "2": "stack", "3": "layer", "4": "init", "5": "rw", "6": "build_cache", "7": "orphan"}
	if !maps.Equal(owner, want) {
		t.Errorf("snapshot dirs charged %v, want %v", owner, want)
	}
	blobs, err := os.ReadDir(filepath.Join(c.ContainerdRoot, "io.containerd.content.v1.content", "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Blobs) != len(blobs) {
		t.Errorf("%d blobs charged, %d in the content store", len(r.Blobs), len(blobs))
	}
	for _, b := range r.Blobs {
		if b.Role != "blob" || len(b.Images) == 0 {
			t.Errorf("blob %s: %s, images %v", b.Digest, b.Role, b.Images)
		}
	}
	for dir, got := range map[string]int64{c.Root: r.Summary.DataRoot.DiskUsage, c.ContainerdRoot: r.Summary.StoreTree.DiskUsage} {
		if n := fixtures.DUSXB1(t, dir); n != got {
			t.Errorf("%s: dlayer %d, du -sxB1 %d", dir, got, n)
		}
	}
	if r.Summary.Total.DiskUsage != r.Summary.DataRoot.DiskUsage+r.Summary.StoreTree.DiskUsage {
		t.Errorf("total %d is not data root + containerd root", r.Summary.Total.DiskUsage)
	}
}

// TestContainerdRootInsideDataRoot: a dockerd that starts its own
// containerd keeps its root at <data root>/containerd/daemon. du then
// walks the data root's dirs on the way to it (containerd/) apart from
// the containerd root, so nothing is counted twice: the data root adds up
// to du -sxB1 of it (the containerd root included) and the containerd
// root to du -sxB1 of its own dir.
func TestContainerdRootInsideDataRoot(t *testing.T) {
	c, err := fixtures.BuildContainerd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(c.Root, "containerd", "daemon")
	if err := os.MkdirAll(filepath.Dir(inside), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(c.ContainerdRoot, inside); err != nil {
		t.Fatal(err)
	}
	c.ContainerdRoot = inside
	out, errOut, code := runCLI("--root", c.Root, "--daemon", "off", "--mountinfo", "none", "--format", "json", "du")
	if code != 0 {
		t.Fatalf("du: exit %d: %s", code, errOut)
	}
	var r du.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.StoreRoot != inside {
		t.Errorf("store root %s, want %s", r.StoreRoot, inside)
	}
	if got, want := r.Summary.DataRoot.DiskUsage, fixtures.DUSXB1(t, c.Root); got != want {
		t.Errorf("data root: dlayer %d, du -sxB1 %d", got, want)
	}
	if got, want := r.Summary.StoreTree.DiskUsage, fixtures.DUSXB1(t, inside); got != want {
		t.Errorf("containerd root: dlayer %d, du -sxB1 %d", got, want)
	}
	if r.Summary.Total != r.Summary.DataRoot {
		t.Errorf("total %+v, want the data root's %+v (the containerd root is inside it)", r.Summary.Total, r.Summary.DataRoot)
	}
	if len(r.Layers) != 2 || len(r.Blobs) == 0 {
		t.Errorf("%d layers, %d blobs: the containerd root inside the data root is not read", len(r.Layers), len(r.Blobs))
	}
}

// TestContainerdDUHostile: du on a containerd store whose files are not
// what containerd writes: a blob that is a symlink out of the root, a
// snapshot's fs/ that is a symlink to a dir outside, the blobs dir itself
// a symlink, meta.db garbage. Nothing is followed or read outside the
// roots, every case names the file, and du goes on (exit 0) unless the
// store cannot be read at all (meta.db: exit 2, naming it).
func TestContainerdDUHostile(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("PLANTED-MARKER\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(outside, "big")
	if err := os.MkdirAll(big, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(big, "f"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	blobs := func(c *fixtures.Containerd) string {
		return filepath.Join(c.ContainerdRoot, "io.containerd.content.v1.content", "blobs")
	}
	for _, tc := range []struct {
		name    string
		mutate  func(t *testing.T, c *fixtures.Containerd)
		code    int
		finding string // a finding kind du must report, or the error text for exit 2
	}{
		{"blob symlink", func(t *testing.T, c *fixtures.Containerd) {
			p := filepath.Join(blobs(c), "sha256", c.App.Encoded())
			must(t, os.Remove(p))
			must(t, os.Symlink(secret, p))
		}, 0, ""},
		{"snapshot fs symlink", func(t *testing.T, c *fixtures.Containerd) {
			p := filepath.Join(c.ContainerdRoot, "io.containerd.snapshotter.v1.overlayfs", "snapshots", "1", "fs")
			must(t, os.RemoveAll(p))
			must(t, os.Symlink(big, p))
		}, 0, "layer_size_mismatch"},
		{"blobs dir symlink", func(t *testing.T, c *fixtures.Containerd) {
			must(t, os.Rename(blobs(c), filepath.Join(outside, "blobs-moved")))
			must(t, os.Symlink(filepath.Join(outside, "blobs-moved"), blobs(c)))
		}, 0, "unreadable"},
		{"meta.db garbage", func(t *testing.T, c *fixtures.Containerd) {
			must(t, os.WriteFile(filepath.Join(c.ContainerdRoot, "io.containerd.metadata.v1.bolt", "meta.db"), []byte("PLANTED-MARKER not a bolt file"), 0o600))
		}, exitUsage, "meta.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := fixtures.BuildContainerd(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(t, c)
			out, errOut, code := runCLI("--root", c.Root, "--daemon", "off", "--mountinfo", "none", "--format", "json", "du")
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			if strings.Contains(out+errOut, "PLANTED-MARKER") {
				t.Errorf("output holds what a file outside the roots (or a garbage file) says:\n%s%s", out, errOut)
			}
			if code != 0 {
				if !strings.Contains(errOut, tc.finding) {
					t.Errorf("stderr %q does not name %s", errOut, tc.finding)
				}
				return
			}
			var r du.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			kinds := map[string]bool{}
			for _, f := range r.Findings {
				kinds[string(f.Kind)] = true
			}
			if tc.finding != "" && !kinds[tc.finding] {
				t.Errorf("findings %+v lack %s", r.Findings, tc.finding)
			}
			if got, want := r.Summary.StoreTree.DiskUsage, fixtures.DUSXB1(t, c.ContainerdRoot); got != want {
				t.Errorf("containerd root: dlayer %d, du -sxB1 %d (nothing outside may count)", got, want)
			}
		})
	}
}
