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
