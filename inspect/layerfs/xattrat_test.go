package layerfs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestXattrAtMatchesProcPath: the *xattrat calls and the /proc/self/fd
// path give the same names and values, long ones included, and neither
// follows a symlink.
func TestXattrAtMatchesProcPath(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("v", 1000)
	for _, kv := range [][2]string{{"user.a", "1"}, {"user.long", long}} {
		if err := unix.Lsetxattr(f, kv[0], []byte(kv[1]), 0); err != nil {
			t.Skipf("user xattrs: %v", err)
		}
	}
	for i := 0; i < 40; i++ { // a name list longer than the first buffer
		if err := unix.Lsetxattr(f, "user.name-of-some-length-"+strings.Repeat("x", i), []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("f", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	read := func() (names []string, v1, vl []byte, lnames []string, missing bool) {
		var err error
		if names, err = d.Xattrs("f"); err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		if v1, _, err = d.Xattr("f", "user.a"); err != nil {
			t.Fatal(err)
		}
		if vl, _, err = d.Xattr("f", "user.long"); err != nil {
			t.Fatal(err)
		}
		if lnames, err = d.Xattrs("l"); err != nil {
			t.Fatal(err)
		}
		_, ok, err := d.Xattr("f", "user.none")
		if err != nil {
			t.Fatal(err)
		}
		return names, v1, vl, lnames, !ok
	}
	n1, a1, l1, s1, m1 := read()
	was := noXattrAt.Load()
	noXattrAt.Store(true)
	n2, a2, l2, s2, m2 := read()
	noXattrAt.Store(was)
	if len(n1) != 42 || !slices.Equal(n1, n2) || string(a1) != "1" || string(a2) != "1" || string(l1) != long || string(l2) != long ||
		len(s1) != 0 || len(s2) != 0 || !m1 || !m2 {
		t.Fatalf("xattrat: %d names, %q, %d bytes, link %v, missing %v; proc path: %d names, %q, %d bytes, link %v, missing %v",
			len(n1), a1, len(l1), s1, m1, len(n2), a2, len(l2), s2, m2)
	}
}
