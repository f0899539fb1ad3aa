package layerfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRoots: each path is read beneath its own root; a path below neither
// is refused, and a symlink in a component below the second root is not
// followed.
func TestRoots(t *testing.T) {
	top := t.TempDir()
	a, b := filepath.Join(top, "a"), filepath.Join(top, "b")
	for _, d := range []string{a, b, filepath.Join(b, "real")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(a, "f"), []byte("A"), 0o644)
	os.WriteFile(filepath.Join(b, "real", "g"), []byte("B"), 0o644)
	os.WriteFile(filepath.Join(top, "outside"), []byte("X"), 0o644)
	if err := os.Symlink("real", filepath.Join(b, "link")); err != nil {
		t.Fatal(err)
	}
	ba, err := OpenBeneath(a)
	if err != nil {
		t.Fatal(err)
	}
	defer ba.Close()
	bb, err := OpenBeneath(b)
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	r := NewRoots(map[string]Opener{a: ba, b: bb})
	if got, err := r.ReadFile(filepath.Join(a, "f"), 10); err != nil || string(got) != "A" {
		t.Errorf("a/f: %q, %v", got, err)
	}
	if got, err := r.ReadFile(filepath.Join(b, "real", "g"), 10); err != nil || string(got) != "B" {
		t.Errorf("b/real/g: %q, %v", got, err)
	}
	if _, err := r.ReadFile(filepath.Join(top, "outside"), 10); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("outside: %v, want ErrOutsideRoot", err)
	}
	if _, err := r.ReadFile(filepath.Join(a, "..", "outside"), 10); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("a/../outside: %v, want ErrOutsideRoot", err)
	}
	if _, err := r.ReadFile(filepath.Join(b, "link", "g"), 10); !errors.Is(err, ErrSymlinkInPath) {
		t.Errorf("b/link/g: %v, want ErrSymlinkInPath", err)
	}
}
