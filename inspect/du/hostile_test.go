package du

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"golang.org/x/sys/unix"
)

// TestDeepTreeAndSymlinks: an orphan 3,000 dirs deep (its paths are far
// beyond PATH_MAX) is walked whole through descriptors, and symlinks to /
// and to a parent are counted by their own size, never followed.
func TestDeepTreeAndSymlinks(t *testing.T) {
	b := build(t, fixtures.Demo())
	dir := filepath.Join(b.Root, "overlay2", "deep")
	if err := os.MkdirAll(filepath.Join(dir, "diff"), 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(filepath.Join(dir, "diff"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	const depth = 3000
	for range depth {
		if err := unix.Mkdirat(fd, "d", 0o755); err != nil {
			t.Fatal(err)
		}
		nfd, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = nfd
	}
	if err := unix.Symlinkat("/", fd, "root"); err != nil {
		t.Fatal(err)
	}
	if err := unix.Symlinkat("..", fd, "up"); err != nil {
		t.Fatal(err)
	}
	f, err := unix.Openat(fd, "leaf", unix.O_CREAT|unix.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(f, []byte("leaf"))
	unix.Close(f)
	unix.Close(fd)
	t.Cleanup(func() { os.RemoveAll(dir) })

	r := audit(t, b.Root, Options{})
	if len(r.Orphans) != 1 {
		t.Fatalf("orphans %+v", r.Orphans)
	}
	o := r.Orphans[0]
	if o.Size != 4+1+2 || o.Files != 3 {
		t.Errorf("deep orphan: size %d files %d, want 7 bytes (leaf, and the symlinks' targets) in 3 files", o.Size, o.Files)
	}
	if want, ok := coreutilsDU(t, dir); ok && o.DiskUsage != want {
		t.Errorf("deep orphan: disk usage %d, du -sxB1 %d", o.DiskUsage, want)
	}
	if want, ok := coreutilsDU(t, b.Root); ok && r.Summary.Total.DiskUsage != want {
		t.Errorf("data root: disk usage %d, du -sxB1 %d", r.Summary.Total.DiskUsage, want)
	}
}
