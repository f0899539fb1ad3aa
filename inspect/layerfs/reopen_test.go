package layerfs

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A Beneath reads through the dirs it kept open: a dir replaced since (a
// layer removed and made again under its name) is still the old one to
// it. Reopen gives an opener that resolves every path again.
func TestBeneathReopen(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "d")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(dir, 0o755))
	must(os.WriteFile(filepath.Join(dir, "f"), []byte("old"), 0o644))
	b, err := OpenBeneath(root)
	must(err)
	defer b.Close()
	if got, err := b.ReadFile(filepath.Join(dir, "f"), 10); err != nil || string(got) != "old" {
		t.Fatalf("%q %v", got, err)
	}
	must(os.Rename(dir, dir+".gone"))
	must(os.Mkdir(dir, 0o755))
	must(os.WriteFile(filepath.Join(dir, "f"), []byte("new"), 0o644))
	if got, _ := b.ReadFile(filepath.Join(dir, "f"), 10); string(got) != "old" {
		t.Logf("the kept dir was resolved again (%q): nothing to show here", got)
	}
	o, err := b.Reopen()
	must(err)
	defer o.(io.Closer).Close()
	if got, err := o.ReadFile(filepath.Join(dir, "f"), 10); err != nil || string(got) != "new" {
		t.Errorf("reopened: %q %v, want new", got, err)
	}
}

// A Roots reopens each root's Beneath; Close releases those, not the
// originals.
func TestRootsReopen(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := os.WriteFile(filepath.Join(d, "f"), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ba, err := OpenBeneath(a)
	if err != nil {
		t.Fatal(err)
	}
	defer ba.Close()
	o, err := NewRoots(map[string]Opener{a: ba, b: OS{}}).Reopen()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{a, b} {
		if got, err := o.ReadFile(filepath.Join(d, "f"), 100); err != nil || string(got) != d {
			t.Errorf("%s: %q %v", d, got, err)
		}
	}
	if err := o.(io.Closer).Close(); err != nil {
		t.Error(err)
	}
	if got, err := ba.ReadFile(filepath.Join(a, "f"), 100); err != nil || string(got) != a {
		t.Errorf("the original was closed with the reopened one: %q %v", got, err)
	}
}
