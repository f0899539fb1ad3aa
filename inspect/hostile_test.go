package inspect

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/overlay2"
	"golang.org/x/sys/unix"
)

// A container's upper dir is attacker-controlled. These tests run as any
// user: they need no whiteout devices.

func walkPlain(t testing.TB, upper string, lowers ...string) *walker {
	t.Helper()
	return walkPlainWith(t, false, upper, lowers...)
}

// walkPlainWith is walkPlain, for docker diff alone when diffOnly.
func walkPlainWith(t testing.TB, diffOnly bool, upper string, lowers ...string) *walker {
	t.Helper()
	u, err := layerfs.OpenDir(upper)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	w := &walker{f: overlay2.Format{}, inodes: map[[2]uint64]bool{}, diffOnly: diffOnly, origin: func(l int, p string) *Origin { return &Origin{Position: l + 1} }}
	for i, l := range lowers {
		d, err := layerfs.OpenDir(l)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		w.roots = append(w.roots, ldir{layer: i, d: d})
	}
	if err := w.walk(u, w.roots); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWalkDeepTree(t *testing.T) {
	const depth = 3000 // paths of ~6000 bytes: beyond PATH_MAX
	upper := t.TempDir()
	fd, err := unix.Open(upper, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < depth; i++ {
		if err := unix.Mkdirat(fd, "d", 0o755); err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		next, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	f, err := unix.Openat(fd, "leaf", unix.O_CREAT|unix.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(f, []byte("x"))
	unix.Close(f)
	unix.Close(fd)

	w := walkPlain(t, upper, t.TempDir())
	if len(w.finds) != 0 {
		t.Fatalf("findings: %v", w.finds[0])
	}
	if len(w.changes) != depth+1 {
		t.Fatalf("got %d changes, want %d", len(w.changes), depth+1)
	}
	last := w.changes[len(w.changes)-1]
	if want := strings.Repeat("/d", depth) + "/leaf"; last.Path != want || last.Kind != KindAdded || last.DockerDiff != "A" {
		t.Errorf("deepest change: %s %s (%d bytes of path)", last.Kind, last.DockerDiff, len(last.Path))
	}
	if w.rwSize != 1 {
		t.Errorf("rw size %d, want 1", w.rwSize)
	}
}

func TestWalkWideDir(t *testing.T) {
	const n = 100_000
	upper, lower := t.TempDir(), t.TempDir()
	for _, d := range []string{upper, lower} {
		if err := os.Mkdir(filepath.Join(d, "wide"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%06d", i)
		dir := lower
		if i%2 == 0 {
			dir = upper // every other file: an upper entry shadowing nothing
		}
		if err := os.WriteFile(filepath.Join(dir, "wide", name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w := walkPlain(t, upper, lower)
	if got := len(w.changes); got != n/2+1 {
		t.Fatalf("got %d changes, want %d", got, n/2+1)
	}
	if w.changes[0].Path != "/wide" || w.changes[0].DockerDiff != "C" || w.changes[1].Kind != KindAdded {
		t.Errorf("first changes: %+v %+v", w.changes[0], w.changes[1])
	}
}

func TestWalkHostileNames(t *testing.T) {
	upper, lower := t.TempDir(), t.TempDir()
	names := []string{"new\nline", "bad\xffname", "tab\there", "back\\slash", "-rf", " lead"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(upper, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []struct{ name, target string }{{"abs", "/etc/shadow"}, {"up", "../../../../etc/passwd"}} {
		if err := os.Symlink(l.target, filepath.Join(upper, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(upper, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	// the same FIFO in a lower layer: comparing must never open it
	if err := unix.Mkfifo(filepath.Join(lower, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := walkPlain(t, upper, lower)
	byPath := map[string]Change{}
	for _, c := range w.changes {
		byPath[c.Path] = c
	}
	for _, n := range names {
		if c, ok := byPath["/"+n]; !ok || c.Kind != KindAdded {
			t.Errorf("%q: %+v", n, c)
		}
	}
	if c := byPath["/abs"]; c.Type != "symlink" || c.LinkTarget != "/etc/shadow" {
		t.Errorf("abs symlink: %+v", c)
	}
	if c := byPath["/up"]; c.LinkTarget != "../../../../etc/passwd" {
		t.Errorf("relative symlink: %+v", c)
	}
	if c := byPath["/fifo"]; c.Type != "fifo" || c.Kind != KindModified || c.DockerDiff != "C" {
		t.Errorf("fifo: %+v", c)
	}
}

// BenchmarkWalkWide walks an upper dir of 10,000 entries over a lower layer
// holding 10,000 more in the same dir: the per-entry cost of explain/diff.
func BenchmarkWalkWide(b *testing.B) {
	upper, lower := b.TempDir(), b.TempDir()
	for _, d := range []string{upper, lower} {
		os.Mkdir(filepath.Join(d, "wide"), 0o755)
	}
	for i := 0; i < 20_000; i++ {
		dir := lower
		if i%2 == 0 {
			dir = upper
		}
		os.WriteFile(filepath.Join(dir, "wide", fmt.Sprintf("f%06d", i)), nil, 0o644)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		walkPlain(b, upper, lower)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10_001, "ns/entry")
}

// TestPermIsOctal: perm gives what %04o gives, for every permission value.
func TestPermIsOctal(t *testing.T) {
	for p := uint32(0); p <= 0o7777; p++ {
		if got, want := perm(layerfs.Stat{Mode: 0o100000 | p}), fmt.Sprintf("%04o", p); got != want {
			t.Fatalf("perm(%o) = %q, want %q", p, got, want)
		}
	}
}
