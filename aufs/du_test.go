package aufs

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/dlayer/dlayer/inspect/backend"
)

// TestHomeLayout: diff/ holds the content, layers/ and mnt/ the other
// entries of a layer; there are no short links.
func TestHomeLayout(t *testing.T) {
	d := driver{h: Home{Dir: t.TempDir()}}
	hl := d.HomeLayout()
	c, ok := hl.Content()
	if !ok || filepath.Join(d.h.Dir, c.Rel, "x") != d.Layout("x").Content || c.ContentSubdir != "" || len(hl.LayerDirs) != 3 {
		t.Errorf("got %+v", hl)
	}
	for _, ld := range hl.LayerDirs {
		if _, ok := d.Bookkeeping(ld.Rel); !ok {
			t.Errorf("%s/ is not named as the driver's own", ld.Rel)
		}
	}
	if _, _, err := d.ShortLinks(); !errors.Is(err, backend.ErrNoShortLinks) {
		t.Errorf("short links: %v", err)
	}
}
