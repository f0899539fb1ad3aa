package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// TestContainerdStoreCLI: the commands of part 1 on a containerd image
// store built by code (fixtures.BuildContainerd; no root, no engine — the
// real engine's is e2e TestContainerdStoreE2E): the containerd root is
// derived from --root, a build container's -init snapshot is in the stack
// without a finding, mounts maps a rootfs mount to its container, and du
// and verify say they do not read it yet.
func TestContainerdStoreCLI(t *testing.T) {
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
	for _, cmd := range []string{"du"} {
		if out := cli(exitUsage, cmd); !strings.Contains(out, "not yet read for this store") {
			t.Errorf("%s: %s", cmd, out)
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
}
