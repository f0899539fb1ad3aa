package anatomy

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

func file(p string, n int) fixtures.Entry {
	return fixtures.Entry{Path: p, Data: strings.Repeat("x", n)}
}

// wasteStore: the lesson's waste, small: /big deleted a layer later,
// /keep and /over rewritten (the older copies are waste, the live ones
// not); an opaque dir hiding what is below it; a hardlinked file whose
// bytes stay live while one of its names does; a dir replaced by a file.
func wasteStore() fixtures.Store {
	return fixtures.Store{Images: []fixtures.Image{
		{Tags: []string{"waste:1"}, Layers: []fixtures.Layer{
			{CreatedBy: "/bin/sh -c dd of=/big && echo a > /keep", Entries: []fixtures.Entry{file("/big", 5000), {Path: "/keep", Data: "a\n"}}},
			{CreatedBy: "/bin/sh -c rm /big && echo b > /keep", Entries: []fixtures.Entry{{Path: "/big", Type: fixtures.Whiteout}, {Path: "/keep", Data: "b\n"}}},
			{CreatedBy: "/bin/sh -c dd of=/over count=2000", Entries: []fixtures.Entry{file("/over", 2000)}},
			{CreatedBy: "/bin/sh -c dd of=/over count=1000", Entries: []fixtures.Entry{file("/over", 1000)}},
		}},
		{Tags: []string{"opaque:1"}, Layers: []fixtures.Layer{
			{CreatedBy: "/bin/sh -c make /d", Entries: []fixtures.Entry{{Path: "/d", Type: fixtures.Dir}, file("/d/a", 100), file("/d/b", 50),
				{Path: "/d/sub", Type: fixtures.Dir}, file("/d/sub/c", 7), file("/h1", 10), {Path: "/h2", Type: fixtures.Hardlink, Target: "/h1"},
				{Path: "/r", Type: fixtures.Dir}, file("/r/x", 9)}},
			{CreatedBy: "/bin/sh -c rm -rf /d && mkdir /d && echo > /d/new; echo 1 > /h1; echo 1 > /r", Entries: []fixtures.Entry{
				{Path: "/d", Type: fixtures.Dir, Opaque: true}, file("/d/new", 3), file("/h1", 2), file("/r", 1)}},
			{CreatedBy: "/bin/sh -c rm /h2", Entries: []fixtures.Entry{{Path: "/h2", Type: fixtures.Whiteout}}},
		}},
	}}
}

// openWaste is wasteStore on the driver drv (overlay2, or its aufs twin).
func openWaste(t *testing.T, drv string) *inspect.Store {
	t.Helper()
	root := fixtures.MustBuild(t, wasteStore(), fixtures.Options{}).Root
	if drv == "aufs" {
		dst := filepath.Join(t.TempDir(), "aufs-root")
		if _, err := fixtures.AUFSTwin(root, dst, fixtures.TwinOptions{}); err != nil {
			t.Fatal(err)
		}
		root = dst
	}
	s, err := inspect.Open(root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWaste(t *testing.T) {
	for _, drv := range []string{"overlay2", "aufs"} {
		t.Run(drv, func(t *testing.T) {
			s := openWaste(t, drv)
			if s.Driver != drv {
				t.Fatalf("opened as %s", s.Driver)
			}
			for _, tc := range []struct {
				image string
				waste int64
				// per layer, base first: added, changed, deleted, wasted bytes
				layers [][4]int64
				groups []string
			}{
				{"waste:1", 5000 + 2000 + 2, [][4]int64{{5002, 0, 0, 5002}, {0, 2, 1, 0}, {2000, 0, 0, 2000}, {0, 1000, 0, 0}},
					[]string{"1<-2 deleted 5000 /big", "3<-4 overwritten 2000 /over", "1<-2 overwritten 2 /keep"}},
				// /h1's 10 bytes die when its last name /h2 does (layer 3)
				{"opaque:1", 100 + 50 + 7 + 9 + 10, [][4]int64{{176, 0, 0, 176}, {3, 3, 0, 0}, {0, 0, 1, 0}},
					// /h1's old name is no waste: /h2 still shows its bytes
					[]string{"1<-2 hidden 157 /d/a,/d/b,/d/sub/c", "1<-3 deleted 10 /h2", "1<-2 replaced 9 /r/x"}},
			} {
				img, err := s.FindImage(tc.image)
				if err != nil {
					t.Fatal(err)
				}
				r, err := Image(s, img, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if !r.Complete || len(r.Findings) != 0 {
					t.Errorf("%s: complete %v, findings %v", tc.image, r.Complete, r.Findings)
				}
				if r.Waste.Bytes != tc.waste {
					t.Errorf("%s: waste %d bytes, want %d", tc.image, r.Waste.Bytes, tc.waste)
				}
				for i, want := range tc.layers {
					l := r.Layers[i]
					if got := [4]int64{l.Added.Bytes, l.Changed.Bytes, int64(l.Deleted.Entries), l.Wasted.Bytes}; got != want {
						t.Errorf("%s layer %d: added, changed bytes, whiteouts, wasted = %v, want %v", tc.image, l.Position, got, want)
					}
				}
				var groups []string
				for _, g := range r.Waste.Groups {
					groups = append(groups, strings.Join([]string{itoa(g.Layer) + "<-" + itoa(g.By), string(g.Kind), itoa64(g.Bytes), strings.Join(g.Paths, ",")}, " "))
				}
				if strings.Join(groups, "\n") != strings.Join(tc.groups, "\n") {
					t.Errorf("%s: groups\n%s\nwant\n%s", tc.image, strings.Join(groups, "\n"), strings.Join(tc.groups, "\n"))
				}
			}
		})
	}
}

func itoa(n int) string     { return itoa64(int64(n)) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// TestMemo: the anatomy of images that share layers is the same with the
// walks kept in a memo as without.
func TestMemo(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	s, err := inspect.Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	memo := NewMemo()
	for _, ref := range []string{"demo/base:1", "demo/app:2", "demo/base:1"} {
		img, err := s.FindImage(ref)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := Image(s, img, Options{})
		if err != nil {
			t.Fatal(err)
		}
		kept, err := Image(s, img, Options{Memo: memo})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(plain, kept) {
			t.Errorf("%s: with the memo\n%+v\nwithout\n%+v", ref, kept, plain)
		}
	}
	if len(memo.byChain) != 4 {
		t.Errorf("the memo holds %d layers, want the store's 4", len(memo.byChain))
	}
}
