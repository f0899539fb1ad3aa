package du

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
)

// TestAuditDemo checks every Docker-defined number of the demo store
// (hardlinks, a sparse file, shared layers, three containers) against what
// the builder wrote and against independent reference walks.
func TestAuditDemo(t *testing.T) {
	b := build(t, fixtures.Demo())
	r := audit(t, b.Root, Options{})
	for _, bl := range b.Layers() {
		l := layerByCache(r, bl.CacheID)
		if l == nil {
			t.Fatalf("layer %s not reported", bl.ChainID)
		}
		ref := refDockerSize(t, filepath.Join(b.Root, "overlay2", bl.CacheID, "diff"))
		if l.Size != bl.Size || l.MeasuredSize != ref || ref != bl.Size {
			t.Errorf("layer %s: size %d measured %d, built %d, reference %d", bl.ChainID, l.Size, l.MeasuredSize, bl.Size, ref)
		}
		if want := refDiskUsage(t, filepath.Join(b.Root, "overlay2", bl.CacheID)); l.DiskUsage != want {
			t.Errorf("layer %s: disk usage %d, reference %d", bl.ChainID, l.DiskUsage, want)
		}
	}
	// demo/base:1 and demo/app:2 are both tagged: base's three layers are
	// shared, app's own layer is not.
	base, app := b.Image("demo/base:1"), b.Image("demo/app:2")
	ib, ia := imageByID(r, string(base.ID)), imageByID(r, string(app.ID))
	if ib.Size != base.Size || ib.SharedSize != base.Size || ib.UniqueSize != 0 {
		t.Errorf("demo/base:1: %+v, want size = shared = %d", ib, base.Size)
	}
	if ia.Size != app.Size || ia.SharedSize != base.Size || ia.UniqueSize != app.Size-base.Size {
		t.Errorf("demo/app:2: size %d shared %d unique %d; want %d, %d, %d", ia.Size, ia.SharedSize, ia.UniqueSize, app.Size, base.Size, app.Size-base.Size)
	}
	for _, bc := range b.Containers {
		c := containerByName(r, bc.Name)
		upper := refDockerSize(t, filepath.Join(b.Root, "overlay2", bc.MountID, "diff"))
		im := imageByID(r, string(bc.ImageID))
		if c.SizeRw != bc.SizeRw || c.SizeRw != upper || c.SizeRootFs != c.SizeRw+im.Size {
			t.Errorf("%s: size_rw %d (built %d, reference %d), size_root_fs %d (image %d)", bc.Name, c.SizeRw, bc.SizeRw, upper, c.SizeRootFs, im.Size)
		}
		if c.DiskUsage != refDiskUsage(t, filepath.Join(b.Root, "overlay2", bc.MountID)) {
			t.Errorf("%s: rw disk usage %d", bc.Name, c.DiskUsage)
		}
	}
	if web := containerByName(r, "web"); web.SizeRw < 8<<20 || web.DiskUsage > 1<<20 {
		t.Errorf("web holds a sparse 8 MiB file: size_rw %d, disk %d", web.SizeRw, web.DiskUsage)
	}
	if r.Summary.SparseFiles == 0 || r.Summary.HardlinkedInodes == 0 {
		t.Errorf("summary misses the sparse file or the hardlinks: %+v", r.Summary)
	}
	if len(r.Orphans) != 0 || len(r.Findings) != 0 || len(r.BuildCache) != 0 {
		t.Errorf("a clean store: orphans %+v findings %+v build cache %+v", r.Orphans, r.Findings, r.BuildCache)
	}
	checkTotals(t, r)
}

// TestAuditSameAnswerAnyWorkers: the parallel walk gives the same report
// whatever the number of workers (hardlinks are charged by precedence, not
// by who met them first).
func TestAuditSameAnswerAnyWorkers(t *testing.T) {
	b := build(t, fixtures.Demo())
	orphan := filepath.Join(b.Root, "overlay2", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	linkIntoLayer(t, b, orphan)
	one := audit(t, b.Root, Options{Workers: 1})
	for _, n := range []int{2, 8} {
		if got := audit(t, b.Root, Options{Workers: n}); !reflect.DeepEqual(one, got) {
			t.Errorf("workers %d: the report differs from the one of 1 worker", n)
		}
	}
}

// TestSparseAndHardlinkSizes: Docker's size counts a sparse file's whole
// st_size, a hardlinked file once and a symlink by its target's length;
// disk usage counts allocated blocks.
func TestSparseAndHardlinkSizes(t *testing.T) {
	b := build(t, fixtures.Store{Images: []fixtures.Image{{Tags: []string{"sp:1"}, Layers: []fixtures.Layer{{
		CreatedBy: "/bin/sh -c make",
		Entries: []fixtures.Entry{
			{Path: "/big", Data: "x", Sparse: 64 << 20},
			{Path: "/a", Data: "hello"},
			{Path: "/b", Type: fixtures.Hardlink, Target: "/a"},
			{Path: "/s", Type: fixtures.Symlink, Target: "a"},
		},
	}}}}})
	r := audit(t, b.Root, Options{})
	l := r.Layers[0]
	if want := int64(64<<20 + 5 + 1); l.Size != want || l.MeasuredSize != want {
		t.Errorf("size %d measured %d, want %d", l.Size, l.MeasuredSize, want)
	}
	if l.DiskUsage > 1<<20 {
		t.Errorf("disk usage %d: the 64 MiB file is a hole", l.DiskUsage)
	}
	if r.Summary.SparseFiles != 1 || r.Summary.SparseBytes < 64<<20-8192 || r.Summary.ExtraLinks != 1 {
		t.Errorf("summary %+v", r.Summary)
	}
	checkTotals(t, r)
}

// TestDanglingReclaim: an untagged child image that no running container
// uses is dangling; removing it frees its own layer, and removing the
// stopped container frees its rw and init layers and its dir.
func TestDanglingReclaim(t *testing.T) {
	b := build(t, fixtures.Store{
		Images: []fixtures.Image{
			{Tags: []string{"base:1"}, Cmd: []string{"/bin/sh"}, Layers: []fixtures.Layer{{CreatedBy: "ADD", Entries: []fixtures.Entry{{Path: "/etc/os", Data: "base"}}}}},
			{Parent: "base:1", Layers: []fixtures.Layer{{CreatedBy: "RUN x", Entries: []fixtures.Entry{{Path: "/x", Data: "0123456789"}}}}},
		},
		Containers: []fixtures.Container{
			{Name: "gone", Image: "base:1", State: fixtures.StateExited, Log: []string{"hello"}, Upper: []fixtures.Entry{{Path: "/out", Data: "abc"}}},
			{Name: "up", Image: "base:1", State: fixtures.StateRunning},
		},
	})
	r := audit(t, b.Root, Options{})
	var dangling *Image
	for i := range r.Images {
		if r.Images[i].Dangling {
			dangling = &r.Images[i]
		}
	}
	if dangling == nil || dangling.UniqueSize != 10 || dangling.SharedSize != 4 {
		t.Fatalf("dangling image: %+v", dangling)
	}
	own := layerByCache(r, b.Images[1].Layers[1].CacheID)
	if got := r.Summary.Images.Reclaimable; got.Size != 10 || got.DiskUsage != own.DiskUsage {
		t.Errorf("images reclaimable %+v, want the dangling image's own layer (10 bytes, %d on disk)", got, own.DiskUsage)
	}
	gone := containerByName(r, "gone")
	want := Usage{Size: 3, DiskUsage: gone.DiskUsage + gone.InitDiskUsage}
	if got := r.Summary.Containers.Reclaimable; got != want || gone.SizeRw != 3 || gone.LogFiles != 1 || gone.LogUsage.Size == 0 {
		t.Errorf("containers reclaimable %+v, want %+v; gone %+v", got, want, gone)
	}
	if r.Summary.ContainerDirs.Reclaimable != gone.DirUsage {
		t.Errorf("container dirs reclaimable %+v, want gone's dir %+v", r.Summary.ContainerDirs.Reclaimable, gone.DirUsage)
	}
	if r.Summary.Images.Active != 1 || r.Summary.Containers.Active != 1 {
		t.Errorf("active: images %d containers %d", r.Summary.Images.Active, r.Summary.Containers.Active)
	}
	checkTotals(t, r)
}

// linkIntoLayer makes dir an orphan holding a hardlink to a file of the
// demo's base layer: the blocks stay charged to the layer.
func linkIntoLayer(t *testing.T, b *fixtures.Built, dir string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "diff", "own"), "0123456789")
	base := b.Image("demo/base:1").Layers[0]
	src := filepath.Join(b.Root, "overlay2", base.CacheID, "diff", "etc", "passwd")
	if err := os.Link(src, filepath.Join(dir, "diff", "passwd")); err != nil {
		t.Fatal(err)
	}
}
