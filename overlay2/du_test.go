package overlay2

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestShortLinks: every entry of l/ is read as text: a good link names its
// layer, a malformed one says why, a missing l/ is fs.ErrNotExist.
func TestShortLinks(t *testing.T) {
	h := home(t)
	layer(t, h, "base", linkA, "")
	os.Symlink("/etc", filepath.Join(h.Dir, "l", linkB))
	dir, links, err := driver{h: h}.ShortLinks()
	if err != nil || dir != filepath.Join(h.Dir, "l") || len(links) != 2 {
		t.Fatalf("got %q %+v %v", dir, links, err)
	}
	if a := links[0]; a.Name != linkA || a.ID != "base" || a.Target != "../base/diff" || a.Err != nil || a.Path != filepath.Join(dir, linkA) {
		t.Errorf("good link: %+v", a)
	}
	if b := links[1]; b.Name != linkB || b.ID != "" || b.Target != "" || !errors.Is(b.Err, ErrBadLink) {
		t.Errorf("malformed link: %+v", b)
	}
	if _, _, err := (driver{h: Home{Dir: t.TempDir()}}).ShortLinks(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no l/: %v", err)
	}
}

// TestHomeLayout: the content of a layer dir is its diff/, named by its
// link file.
func TestHomeLayout(t *testing.T) {
	h := home(t)
	hl := driver{h: h}.HomeLayout()
	c, ok := hl.Content()
	if !ok || c.Rel != "" || c.ContentSubdir != filepath.Base(h.Dirs("x").Diff) || len(hl.LayerDirs) != 1 {
		t.Errorf("got %+v", hl)
	}
}
