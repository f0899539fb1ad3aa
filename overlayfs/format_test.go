package overlayfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"
)

func TestFormatClassifies(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, fn func(p string) error) {
		t.Helper()
		if err := fn(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	file := func(p string) error { return os.WriteFile(p, nil, 0o644) }
	mk("plain", file)
	mk("uwhite", func(p string) error { file(p); return xattr.LSet(p, "user.overlay.whiteout", []byte("y")) })
	mk("notwhite", func(p string) error { // whiteout xattr on a file with data: not a whiteout
		os.WriteFile(p, []byte("data"), 0o644)
		return xattr.LSet(p, "user.overlay.whiteout", []byte("y"))
	})
	mk("uopq", func(p string) error { os.Mkdir(p, 0o755); return xattr.LSet(p, "user.overlay.opaque", []byte("y")) })
	mk("xopq", func(p string) error { os.Mkdir(p, 0o755); return xattr.LSet(p, "user.overlay.opaque", []byte("x")) })
	mk("redir", func(p string) error {
		os.Mkdir(p, 0o755)
		return xattr.LSet(p, "user.overlay.redirect", []byte("/old"))
	})
	mk("meta", func(p string) error { file(p); return xattr.LSet(p, "user.overlay.metacopy", nil) })
	mk("link", func(p string) error { return os.Symlink("/etc/shadow", p) })
	mk("fifo", func(p string) error { return unix.Mkfifo(p, 0o644) })
	devOK := unix.Mknod(filepath.Join(dir, "dev"), unix.S_IFCHR, 0) == nil

	d, err := layerfs.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ents, err := Format{}.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]layerfs.Entry{}
	var names []string
	for _, e := range ents {
		got[e.Name] = e
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != strings.Join(sortedCopy(names), ",") {
		t.Errorf("ReadDir not sorted: %v", names)
	}
	check := func(name string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s: %+v", name, got[name])
		}
	}
	check("plain", got["plain"].Kind == layerfs.Plain)
	check("uwhite", got["uwhite"].Kind == layerfs.Whiteout && got["uwhite"].XattrForm == "user.overlay.whiteout")
	check("notwhite", got["notwhite"].Kind == layerfs.Plain)
	check("uopq", got["uopq"].Opaque && got["uopq"].XattrForm == "user.overlay.opaque")
	check("xopq", !got["xopq"].Opaque)
	check("redir", got["redir"].Redirect == "/old")
	check("meta", got["meta"].Metacopy)
	check("link", got["link"].Type() == layerfs.TypeSymlink)
	check("fifo", got["fifo"].Type() == layerfs.TypeFIFO && got["fifo"].Kind == layerfs.Plain)
	if devOK {
		check("dev", got["dev"].Kind == layerfs.Whiteout && got["dev"].XattrForm == "char device 0/0")
	}
	if _, ok, err := (Format{}).Lookup(d, "absent"); ok || err != nil {
		t.Errorf("absent: %v %v", ok, err)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}
