package aufs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

func TestClassify(t *testing.T) {
	for raw, want := range map[string]struct {
		name string
		kind layerfs.Kind
	}{
		"passwd":         {"passwd", layerfs.Plain},
		".wh.passwd":     {"passwd", layerfs.Whiteout},
		".wh..profile":   {".profile", layerfs.Whiteout},
		".wh..wh..opq":   {".wh..wh..opq", layerfs.Bookkeeping},
		".wh..wh.aufs":   {".wh..wh.aufs", layerfs.Bookkeeping},
		".wh..wh.plnk":   {".wh..wh.plnk", layerfs.Bookkeeping},
		".wh..wh.orph":   {".wh..wh.orph", layerfs.Bookkeeping},
		".wh.":           {".wh.", layerfs.Plain},
		".whiteout":      {".whiteout", layerfs.Plain},
		"a.wh.b":         {"a.wh.b", layerfs.Plain},
		".wh.\xff\nname": {"\xff\nname", layerfs.Whiteout},
	} {
		name, kind := Classify(raw)
		if name != want.name || kind != want.kind {
			t.Errorf("Classify(%q) = %q, %v; want %q, %v", raw, name, kind, want.name, want.kind)
		}
	}
}

func TestParseParents(t *testing.T) {
	ids, exists, err := ParseParents("layers/x", "b\na\n\n")
	if err != nil || !exists || strings.Join(ids, ",") != "b,a" {
		t.Errorf("%v %v %v", ids, exists, err)
	}
	if ids, _, err := ParseParents("layers/x", ""); err != nil || len(ids) != 0 {
		t.Errorf("base layer: %v %v", ids, err)
	}
	_, _, err = ParseParents("layers/x", "a\n../../etc\n")
	if !errors.Is(err, ErrBadLayers) || !strings.Contains(err.Error(), "layers/x:2") {
		t.Errorf("bad id: %v", err)
	}
	h := Home{Dir: t.TempDir()}
	if _, exists, err := h.Parents("nope"); exists || err != nil {
		t.Errorf("missing layers file: %v %v", exists, err)
	}
}

// A branch with every kind of aufs entry, as plain files.
func TestFormat(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{".wh..wh.plnk/", ".wh..wh.orph/", "etc/", "data/", "keep"} {
		if strings.HasSuffix(p, "/") {
			os.MkdirAll(filepath.Join(dir, p), 0o755)
		} else {
			os.WriteFile(filepath.Join(dir, p), []byte("k"), 0o644)
		}
	}
	for _, p := range []string{".wh..wh.aufs", "etc/.wh.passwd", ".wh.gone", "data/.wh..wh..opq", "data/new"} {
		os.WriteFile(filepath.Join(dir, p), nil, 0o444)
	}
	d, err := layerfs.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f := Format{}
	ents, err := f.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		s := e.Name + "=" + e.RawName
		switch {
		case e.Kind == layerfs.Whiteout:
			s += " whiteout"
		case e.Kind == layerfs.Bookkeeping:
			s += " bookkeeping"
		case e.Opaque:
			s += " opaque"
		}
		got = append(got, s)
	}
	want := ".wh..wh.aufs=.wh..wh.aufs bookkeeping|.wh..wh.orph=.wh..wh.orph bookkeeping|.wh..wh.plnk=.wh..wh.plnk bookkeeping|" +
		"data=data opaque|etc=etc|gone=.wh.gone whiteout|keep=keep"
	if strings.Join(got, "|") != want {
		t.Errorf("ReadDir:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	for name, want := range map[string]string{"gone": ".wh.gone", "keep": "keep", "data": "data", "nothing": ""} {
		e, ok, err := f.Lookup(d, name)
		if err != nil || ok != (want != "") || e.RawName != want {
			t.Errorf("Lookup(%q) = %+v %v %v", name, e, ok, err)
		}
	}
	sub, err := d.Sub("data")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if ents, _ := f.ReadDir(sub); len(ents) != 1 || ents[0].Name != "new" {
		t.Errorf("the opaque marker is the dir's flag, not an entry: %+v", ents)
	}
}
