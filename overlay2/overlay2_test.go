package overlay2

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"
)

func home(t *testing.T) Home {
	t.Helper()
	h := Home{Dir: t.TempDir()}
	os.MkdirAll(filepath.Join(h.Dir, "l"), 0o755)
	return h
}

func layer(t *testing.T, h Home, id, link, lower string) {
	t.Helper()
	os.MkdirAll(h.Dirs(id).Diff, 0o755)
	os.WriteFile(filepath.Join(h.Dir, id, "link"), []byte(link), 0o644)
	if lower != "" {
		os.WriteFile(filepath.Join(h.Dir, id, "lower"), []byte(lower), 0o644)
	}
	os.Symlink("../"+id+"/diff", filepath.Join(h.Dir, "l", link))
}

const (
	linkA = "AAAAAAAAAAAAAAAAAAAAAAAAAA"
	linkB = "BBBBBBBBBBBBBBBBBBBBBBBBBB"
)

func TestLowers(t *testing.T) {
	h := home(t)
	layer(t, h, "base", linkA, "")
	layer(t, h, "top", linkB, "l/"+linkA)
	layer(t, h, "ctr", "CCCCCCCCCCCCCCCCCCCCCCCCCC", "l/"+linkB+":l/"+linkA)
	lw, ok, err := h.Lowers("ctr")
	if err != nil || !ok || len(lw) != 2 || lw[0].ID != "top" || lw[1].ID != "base" || lw[1].Diff != h.Dirs("base").Diff {
		t.Fatalf("got %+v %v %v", lw, ok, err)
	}
	if _, ok, err := h.Lowers("base"); ok || err != nil {
		t.Errorf("base layer: lower file reported (%v, %v)", ok, err)
	}
	if l, err := h.Link("top"); err != nil || l != linkB {
		t.Errorf("link: %q %v", l, err)
	}
}

func TestLowersMalformed(t *testing.T) {
	h := home(t)
	layer(t, h, "base", linkA, "")
	for name, tc := range map[string]struct{ lower, target string }{
		"not l/":          {lower: "x/" + linkA},
		"short link":      {lower: "l/ABC"},
		"absolute target": {lower: "l/" + linkB, target: "/etc"},
		"dotdot id":       {lower: "l/" + linkB, target: "../../diff"},
		"no diff suffix":  {lower: "l/" + linkB, target: "../base"},
		"dangling":        {lower: "l/DDDDDDDDDDDDDDDDDDDDDDDDDD"},
	} {
		t.Run(name, func(t *testing.T) {
			os.Remove(filepath.Join(h.Dir, "l", linkB))
			if tc.target != "" {
				os.Symlink(tc.target, filepath.Join(h.Dir, "l", linkB))
			}
			os.MkdirAll(filepath.Join(h.Dir, "ctr"), 0o755)
			os.WriteFile(filepath.Join(h.Dir, "ctr", "lower"), []byte(tc.lower+":l/"+linkA), 0o644)
			lw, _, err := h.Lowers("ctr")
			if err != nil || len(lw) != 2 {
				t.Fatalf("%+v %v", lw, err)
			}
			if lw[0].Err == nil || lw[0].ID != "" {
				t.Errorf("bad entry resolved: %+v", lw[0])
			}
			if lw[1].Err != nil || lw[1].ID != "base" {
				t.Errorf("good entry after a bad one: %+v", lw[1])
			}
		})
	}
	os.WriteFile(filepath.Join(h.Dir, "base", "link"), []byte("lower-case-and-short"), 0o644)
	if _, err := h.Link("base"); !errors.Is(err, ErrBadLink) {
		t.Errorf("bad link file: %v", err)
	}
}

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
