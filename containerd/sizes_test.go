package containerd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

// TestEngineSizes: the fixture store's sizes by Docker 29's rules. app:1
// counts its manifest and config blobs (its layer blobs are absent) and
// every snapshot from its top ChainID down, the classic build container's
// -init included; the moby-dangling@ base is its parent, an intermediate:
// not listed, so nothing is shared. The container's SizeRw is du's
// allocated bytes of its fs/; SizeRootFs adds the four snapshots below.
func TestEngineSizes(t *testing.T) {
	s := buildStore(t)
	d := New(Config{}).Open(s.root, layerfs.OS{})
	got, err := d.Metadata().(backend.EngineSizes).EngineSizes(true)
	if err != nil {
		t.Fatal(err)
	}
	blobs := filepath.Join(s.ctr, "io.containerd.content.v1.content", "blobs", "sha256")
	man, err := os.Stat(filepath.Join(blobs, s.app.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	usage := func(n string) int64 {
		t.Helper()
		fs := filepath.Join(s.ctr, "io.containerd.snapshotter.v1.overlayfs", "snapshots", n, "fs")
		out, err := exec.Command("du", "-s", "-B1", fs).Output()
		if err != nil {
			t.Fatalf("du %s: %v", fs, err)
		}
		v, _ := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
		return v
	}
	// the recorded sizes of snapshots 3 (app's RUN layer), 2 (its build
	// container's -init) and 1 (base), then the container's -init (4)
	stack := usage("3") + usage("2") + usage("1")
	want := man.Size() + int64(len(s.appConfig)) + stack
	if len(got.Images) != 1 || got.Images[s.app].Size != want || got.Images[s.app].SharedSize != 0 {
		t.Errorf("images %+v, want only %s with Size %d, SharedSize 0", got.Images, s.app, want)
	}
	rw := usage("5")
	c := got.Containers[s.cid]
	if len(got.Containers) != 1 || c.Err != nil || c.SizeRw != rw || c.SizeRootFs != rw+stack+usage("4") {
		t.Errorf("containers %+v, want %s with SizeRw %d (du -sB1), SizeRootFs %d", got.Containers, s.cid, rw, rw+stack+usage("4"))
	}
}

// TestDiskUsage: containerd's fs.DiskUsage: the dir itself and every
// entry below, each inode once (a hard link counts once), symlinks as
// themselves (never followed); a symlink as the dir is refused.
func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = 1
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a", "f"), big, 0o644))
	must(os.Link(filepath.Join(dir, "a", "f"), filepath.Join(dir, "a", "b", "g")))
	outside := t.TempDir()
	must(os.WriteFile(filepath.Join(outside, "huge"), make([]byte, 1<<20), 0o644))
	must(os.Symlink(outside, filepath.Join(dir, "link")))
	got, err := DiskUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("du", "-s", "-B1", dir).Output()
	if err != nil {
		t.Skipf("du: %v", err)
	}
	want, _ := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	if got != want || got >= 1<<20 {
		t.Errorf("DiskUsage = %d, du -sB1 = %d", got, want)
	}
	if _, err := DiskUsage(filepath.Join(dir, "link")); err == nil {
		t.Error("DiskUsage through a symlink: no error")
	}
	if n, err := DiskUsageBeneath(dir, "a"); err != nil || n >= got {
		t.Errorf("DiskUsageBeneath(a) = %d, %v", n, err)
	}
	if _, err := DiskUsageBeneath(dir, "link/x"); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("DiskUsageBeneath through a symlinked component: %v", err)
	}
	if _, err := DiskUsageBeneath(dir, "../x"); err == nil {
		t.Error("DiskUsageBeneath above the root: no error")
	}
}
