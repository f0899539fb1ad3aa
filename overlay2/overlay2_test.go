package overlay2

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
