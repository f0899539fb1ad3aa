package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/du"
)

// checkCtrdDU runs dlayer du on a Docker 29 containerd store and checks
// it against the engine's /system/df (every image's Size and SharedSize,
// every container's SizeRw and SizeRootFs, byte for byte) and, when the
// store is still (settled: daemons stopped or a copy), against du -sxB1:
// the data root, the containerd root, its snapshotter dir and its content
// store each add up, every snapshot dir is charged to an owner by the
// snapshotter's records (none an orphan, none unaccounted) and every blob
// to the images or holders that keep it.
func checkCtrdDU(t *testing.T, root, ctrRoot string, df engine.DF, settled bool) *du.Report {
	t.Helper()
	r := duJSON(t, root)
	images := map[string]du.Image{}
	for _, im := range r.Images {
		images[string(im.ID)] = im
	}
	for _, want := range df.Images {
		got, ok := images[want.ID]
		if !ok || got.Size != want.Size || got.SharedSize != want.SharedSize || got.UniqueSize != want.Size-want.SharedSize {
			t.Errorf("image %s %v: dlayer size %d shared %d; /system/df %d, %d", want.ID, want.RepoTags, got.Size, got.SharedSize, want.Size, want.SharedSize)
		}
	}
	ctrs := map[string]du.Container{}
	for _, c := range r.Containers {
		ctrs[c.ID] = c
	}
	for _, want := range df.Containers {
		got, ok := ctrs[want.ID]
		if !ok || got.SizeRw != want.SizeRw || got.SizeRootFs != want.SizeRootFs {
			t.Errorf("container %v: dlayer size_rw %d size_root_fs %d (listed %v); /system/df %d, %d", want.Names, got.SizeRw, got.SizeRootFs, ok, want.SizeRw, want.SizeRootFs)
		}
	}
	t.Logf("/system/df: %d images, %d containers, LayersSize %d: dlayer's images total %d", len(df.Images), len(df.Containers), df.LayersSize, r.Summary.Images.Size)
	if r.Summary.Images.Size != df.LayersSize {
		t.Errorf("images total %d, /system/df LayersSize %d", r.Summary.Images.Size, df.LayersSize)
	}
	for _, f := range r.Findings {
		t.Errorf("du: finding %s %s: %s", f.Kind, f.Path, f.Message)
	}
	for _, o := range r.Orphans {
		t.Errorf("du: orphan %s (%s)", o.Path, o.Why)
	}
	if !settled {
		return r
	}
	home := filepath.Join(ctrRoot, "io.containerd.snapshotter.v1.overlayfs")
	content := filepath.Join(ctrRoot, "io.containerd.content.v1.content")
	var blobs, snaps du.Usage
	for _, b := range r.Blobs {
		blobs = blobs.Add(b.Usage)
		if b.Role == "blob" && len(b.Images) == 0 || b.Role == "held" && len(b.Holders) == 0 {
			t.Errorf("blob %s: role %s, images %v, holders %v", b.Digest, b.Role, b.Images, b.Holders)
		}
	}
	charged := map[string]string{}
	for _, l := range r.Layers {
		charged[l.CacheID] = "layer " + string(l.ChainID)
		snaps.DiskUsage += l.DiskUsage
		if l.MeasuredSize != l.Size {
			t.Errorf("layer %s: fs/ measures %d now, the snapshotter recorded %d", l.ChainID, l.MeasuredSize, l.Size)
		}
	}
	for _, c := range r.Containers {
		charged[c.MountID], charged[c.InitID] = "rw of "+c.Name, "init of "+c.Name
		snaps.DiskUsage += c.DiskUsage + c.InitDiskUsage
	}
	for _, ds := range [][]du.Dir{r.BuildCache, r.StackDirs} {
		for _, d := range ds {
			charged[strings.TrimPrefix(d.Name, "snapshots/")] = d.Why
			snaps.DiskUsage += d.DiskUsage
		}
	}
	dirs, err := os.ReadDir(filepath.Join(home, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if charged[d.Name()] == "" {
			t.Errorf("snapshots/%s: charged to no owner", d.Name())
		}
	}
	blobFiles, err := os.ReadDir(filepath.Join(content, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	if len(blobFiles) != len(r.Blobs) {
		t.Errorf("%d blobs charged, the content store has %d", len(r.Blobs), len(blobFiles))
	}
	// the dirs themselves: snapshots/ and blobs/, blobs/sha256/, ingest/ and the content store's
	snapsSelf, contentSelf := dirBlocks(t, filepath.Join(home, "snapshots")), dirBlocks(t, content)+dirBlocks(t, filepath.Join(content, "blobs"))+
		dirBlocks(t, filepath.Join(content, "blobs", "sha256"))+dirBlocks(t, filepath.Join(content, "ingest"))
	var ingest int64
	for _, d := range r.Ingest {
		ingest += d.DiskUsage
	}
	for dir, got := range map[string]int64{
		root: r.Summary.DataRoot.DiskUsage, ctrRoot: r.Summary.StoreTree.DiskUsage, home: r.Summary.DriverDir.DiskUsage,
		filepath.Join(home, "snapshots"): snaps.DiskUsage + snapsSelf, content: blobs.DiskUsage + ingest + contentSelf,
	} {
		want := fixtures.DUSXB1(t, dir)
		t.Logf("%s: du -sxB1 %d, dlayer %d", dir, want, got)
		if got != want {
			t.Errorf("%s: dlayer %d, du -sxB1 %d", dir, got, want)
		}
	}
	if r.Summary.Total.DiskUsage != r.Summary.DataRoot.DiskUsage+r.Summary.StoreTree.DiskUsage {
		t.Errorf("total %d is not the data root's %d + the containerd root's %d", r.Summary.Total.DiskUsage, r.Summary.DataRoot.DiskUsage, r.Summary.StoreTree.DiskUsage)
	}
	return r
}

// dirBlocks is the allocated bytes of dir itself.
func dirBlocks(t *testing.T, dir string) int64 {
	t.Helper()
	out, err := exec.Command("stat", "-c", "%b %B", dir).Output()
	if err != nil {
		t.Fatalf("stat %s: %v", dir, err)
	}
	f := strings.Fields(string(out))
	b, _ := strconv.ParseInt(f[0], 10, 64)
	u, _ := strconv.ParseInt(f[1], 10, 64)
	return b * u
}

// checkCtrdDUDamage: on a cp -a copy of a stopped Docker 29 store, what
// du must tell apart: a snapshot dir no record names (an orphan), a blob
// no image, lease or namespace references (an orphan), an unfinished
// ingest (never reclaimable), while the classic build container's -init
// snapshot that RUN layers sit on stays charged to the image stacks.
func checkCtrdDUDamage(t *testing.T, root, ctrRoot string) {
	t.Helper()
	dir := t.TempDir()
	for _, src := range []string{root, ctrRoot} {
		if out, err := exec.Command("cp", "-a", src, filepath.Join(dir, filepath.Base(src))).CombinedOutput(); err != nil {
			t.Fatalf("cp -a: %v\n%s", err, out)
		}
	}
	croot := filepath.Join(dir, filepath.Base(ctrRoot))
	orphanSnap := filepath.Join(croot, "io.containerd.snapshotter.v1.overlayfs", "snapshots", "999999")
	orphanBlob := filepath.Join(croot, "io.containerd.content.v1.content", "blobs", "sha256", strings.Repeat("ab", 32))
	ingest := filepath.Join(croot, "io.containerd.content.v1.content", "ingest", strings.Repeat("cd", 32))
	for _, d := range []string{filepath.Join(orphanSnap, "fs", "etc"), filepath.Join(orphanSnap, "work"), ingest} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, data := range map[string]string{filepath.Join(orphanSnap, "fs", "etc", "leftover"): "x\n", orphanBlob: "no one's\n",
		filepath.Join(ingest, "data"): "half a bl", filepath.Join(ingest, "ref"): "moby/1/layer-sha256:00\n"} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := duJSON(t, filepath.Join(dir, filepath.Base(root)))
	orphans := map[string]bool{}
	for _, o := range r.Orphans {
		orphans[o.Path] = true
	}
	if len(r.Orphans) != 2 || !orphans[orphanSnap] || !orphans[orphanBlob] {
		t.Errorf("orphans %+v, want exactly %s and %s", r.Orphans, orphanSnap, orphanBlob)
	}
	if len(r.Ingest) != 1 || r.Ingest[0].Path != ingest {
		t.Errorf("ingest %+v, want %s", r.Ingest, ingest)
	}
	if len(r.StackDirs) == 0 {
		t.Errorf("no stack dirs: the classic build's -init snapshot is charged elsewhere")
	}
	var want int64
	for _, o := range r.Orphans {
		want += o.DiskUsage
	}
	if r.Summary.Orphans.Reclaimable.DiskUsage != want || want == 0 {
		t.Errorf("orphans reclaimable %d, their disk usage %d", r.Summary.Orphans.Reclaimable.DiskUsage, want)
	}
	if got, du := r.Summary.StoreTree.DiskUsage, fixtures.DUSXB1(t, croot); got != du {
		t.Errorf("containerd root of the copy: dlayer %d, du -sxB1 %d", got, du)
	}
}
