package du

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// refDockerSize is moby pkg/directory.Size written the plain way (a
// filepath.WalkDir with Lstat): the fixtures' own reference.
func refDockerSize(t *testing.T, dir string) int64 {
	t.Helper()
	n, err := fixtures.DirSize(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refDiskUsage is GNU du -sxB1 written the plain way: st_blocks*512 of
// every entry on dir's file system, a non-dir with several names once.
func refDiskUsage(t *testing.T, dir string) int64 {
	t.Helper()
	var root syscall.Stat_t
	if err := syscall.Lstat(dir, &root); err != nil {
		t.Fatal(err)
	}
	type key struct{ dev, ino uint64 }
	seen := map[key]bool{}
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		if st.Dev != root.Dev {
			return fs.SkipDir
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFDIR && st.Nlink > 1 {
			k := key{st.Dev, st.Ino}
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		n += st.Blocks * 512
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// coreutilsDU runs du -sxB1 when du is installed; ok is false otherwise.
func coreutilsDU(t *testing.T, dir string) (int64, bool) {
	t.Helper()
	if _, err := exec.LookPath("du"); err != nil {
		return 0, false
	}
	out, err := exec.Command("du", "-sxB1", dir).Output()
	if err != nil {
		t.Fatalf("du -sxB1 %s: %v", dir, err)
	}
	n, err := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n, true
}

// audit opens root and audits it, failing the test on error.
func audit(t *testing.T, root string, opt Options) *Report {
	t.Helper()
	s, err := inspect.Open(root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Audit(s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkTotals compares the audit's totals with the reference walks (and
// du itself): the driver dir and the whole data root, byte for byte.
func checkTotals(t *testing.T, r *Report) {
	t.Helper()
	for _, c := range []struct {
		what string
		dir  string
		got  int64
	}{
		{"overlay2/", r.DriverDir, r.Summary.DriverDir.DiskUsage},
		{"data root", r.Root, r.Summary.Total.DiskUsage},
	} {
		if want := refDiskUsage(t, c.dir); c.got != want {
			t.Errorf("%s: disk usage %d, reference du walk %d", c.what, c.got, want)
		}
		if want, ok := coreutilsDU(t, c.dir); ok && c.got != want {
			t.Errorf("%s: disk usage %d, du -sxB1 %d", c.what, c.got, want)
		}
	}
}

func layerByCache(r *Report, id string) *Layer {
	for i := range r.Layers {
		if r.Layers[i].CacheID == id {
			return &r.Layers[i]
		}
	}
	return nil
}

func imageByID(r *Report, id string) *Image {
	for i := range r.Images {
		if string(r.Images[i].ID) == id {
			return &r.Images[i]
		}
	}
	return nil
}

func containerByName(r *Report, name string) *Container {
	for i := range r.Containers {
		if r.Containers[i].Name == name {
			return &r.Containers[i]
		}
	}
	return nil
}

func findingKinds(r *Report) map[string][]inspect.Finding {
	m := map[string][]inspect.Finding{}
	for _, f := range r.Findings {
		m[f.Kind.String()] = append(m[f.Kind.String()], f)
	}
	return m
}

// build makes a fixture store, or fails. As non-root, dirs the store keeps
// unreadable (work/work is mode 0, as Docker makes it) are opened up, so
// that the audit and the reference walks can read everything; root reads
// them as they are.
func build(t *testing.T, s fixtures.Store) *fixtures.Built {
	t.Helper()
	b := fixtures.MustBuild(t, s, fixtures.Options{})
	if os.Geteuid() != 0 {
		err := filepath.WalkDir(b.Root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				if fi, e := d.Info(); e == nil && fi.Mode().Perm()&0o500 != 0o500 {
					return os.Chmod(p, fi.Mode().Perm()|0o700)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// writeFile writes data to path, making parents, or fails.
func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
