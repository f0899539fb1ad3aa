package overlay

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/mountinfo"
)

func TestDetect(t *testing.T) {
	s := newStore(t)
	if !New().Detect(s.root, layerfs.OS{}) {
		t.Error("image/overlay not detected")
	}
	if New().Detect(t.TempDir(), layerfs.OS{}) {
		t.Error("an empty dir detected")
	}
	if New().Name() != Name || s.open(nil).Name() != Name || s.open(nil).Home() != s.home {
		t.Error("names")
	}
}

func TestLayout(t *testing.T) {
	s := newStore(t)
	d := s.open(nil)
	img := d.Layout(idL2)
	if img.Dir != filepath.Join(s.home, idL2) || img.Content != filepath.Join(s.home, idL2, "root") || img.Work != "" || img.Merged != "" || img.Parents != "" {
		t.Errorf("image layer: %+v", img)
	}
	ctr := d.Layout(idM)
	m := filepath.Join(s.home, idM)
	if ctr.Dir != m || ctr.Content != filepath.Join(m, "upper") || ctr.Work != filepath.Join(m, "work") ||
		ctr.Merged != filepath.Join(m, "merged") || ctr.Parents != filepath.Join(m, "lower-id") {
		t.Errorf("container layer: %+v", ctr)
	}
	// Missing dirs: as the records say they should be.
	must(t, os.RemoveAll(filepath.Join(s.home, idL1)))
	if l := d.Layout(idL1); l.Content != filepath.Join(s.home, idL1, "root") {
		t.Errorf("missing image layer: %+v", l)
	}
	gone := strings.Repeat("9", 64)
	if l := d.Layout(gone); l.Content != filepath.Join(s.home, gone, "upper") {
		t.Errorf("missing container layer: %+v", l)
	}
	if l := d.Layout(gone + InitSuffix); l.Content != filepath.Join(s.home, gone+InitSuffix, "upper") {
		t.Errorf("missing init layer: %+v", l)
	}
	if got := (Home{Dir: s.home}).Form(idL3); got != FormRoot || got.String() != "root" {
		t.Errorf("form of an image layer: %v", got)
	}
	if got := (Home{Dir: s.home}).Form(idM); got != FormUnion || FormMissing.String() != "missing" {
		t.Errorf("form of a container layer: %v", got)
	}
	if l, err := d.Link(idL3); l != "" || err != nil {
		t.Errorf("Link: %q %v", l, err)
	}
}

func lowerIDs(lws []backend.Lower) string {
	var s []string
	for _, l := range lws {
		id := l.ID
		if l.Err != nil {
			id = "!" + l.Ref
		}
		s = append(s, id[:min(len(id), 2)]+strings.TrimPrefix(id, strings.TrimSuffix(id, InitSuffix)))
	}
	return strings.Join(s, ",")
}

func TestLowers(t *testing.T) {
	s := newStore(t)
	d := s.open(nil)
	for _, tc := range []struct {
		id     string
		want   string
		exists bool
	}{
		{idM, "44-init,33,22,11", true},      // init, then the image from lower-id down
		{idM + InitSuffix, "33,22,11", true}, // the image from lower-id down
		{idL3, "22,11", true},                // the layer chain
		{idL1, "", false},                    // a base layer
		{strings.Repeat("9", 64), "", false}, // no such dir
	} {
		lws, exists, err := d.Lowers(tc.id)
		if err != nil || exists != tc.exists || lowerIDs(lws) != tc.want {
			t.Errorf("Lowers(%s) = %s %v %v, want %s %v", tc.id[:2], lowerIDs(lws), exists, err, tc.want, tc.exists)
		}
		for _, lw := range lws {
			if lw.Err == nil && lw.Content != d.Layout(lw.ID).Content {
				t.Errorf("Lowers(%s): %s content %s", tc.id[:2], lw.ID, lw.Content)
			}
		}
	}
	lws, _, _ := d.Lowers(idM)
	if lws[0].Content != filepath.Join(s.home, idM+InitSuffix, "upper") || lws[1].Content != filepath.Join(s.home, idL3, "root") {
		t.Errorf("rw lowers: %+v", lws)
	}
}

// TestMountLowers: a container's rw and init layers are mounted over the
// one root/ that lower-id names (a scratch image's: the init layer's);
// image layers are never mounted.
func TestMountLowers(t *testing.T) {
	s := newStore(t)
	d := s.open(nil)
	for _, id := range []string{idM, idM + InitSuffix} {
		lws, exists, err := d.MountLowers(id)
		if err != nil || !exists || len(lws) != 1 || lws[0].ID != idL3 || lws[0].Content != filepath.Join(s.home, idL3, "root") {
			t.Errorf("MountLowers(%s) = %+v %v %v, want the root/ of %s", id[:2], lws, exists, err, idL3[:2])
		}
	}
	for _, id := range []string{idL3, idL1, strings.Repeat("9", 64)} {
		if lws, exists, err := d.MountLowers(id); err != nil || exists || len(lws) != 0 {
			t.Errorf("MountLowers(%s) = %+v %v %v, want nothing", id[:2], lws, exists, err)
		}
	}
	scratch := strings.Repeat("5", 64)
	must(t, os.MkdirAll(filepath.Join(s.home, scratch+InitSuffix, "root"), 0o755))
	must(t, os.MkdirAll(filepath.Join(s.home, scratch, "upper"), 0o755))
	write(t, filepath.Join(s.home, scratch, "lower-id"), scratch+InitSuffix)
	if lws, ok, err := d.MountLowers(scratch); err != nil || !ok || len(lws) != 1 || lws[0].Content != filepath.Join(s.home, scratch+InitSuffix, "root") {
		t.Errorf("scratch container: %+v %v %v", lws, ok, err)
	}
	write(t, filepath.Join(s.home, idM, "lower-id"), "../x")
	if _, ok, err := d.MountLowers(idM); !ok || !errors.Is(err, ErrBadLowerID) {
		t.Errorf("malformed lower-id: %v %v", ok, err)
	}
}

func TestLowersBroken(t *testing.T) {
	s := newStore(t)
	d := s.open(nil)
	// A scratch image's container: the init layer is a root/ of its own.
	scratch := strings.Repeat("5", 64)
	must(t, os.MkdirAll(filepath.Join(s.home, scratch+InitSuffix, "root"), 0o755))
	must(t, os.MkdirAll(filepath.Join(s.home, scratch, "upper"), 0o755))
	write(t, filepath.Join(s.home, scratch, "lower-id"), scratch+InitSuffix)
	if lws, ok, err := d.Lowers(scratch); err != nil || !ok || lowerIDs(lws) != "55-init" {
		t.Errorf("scratch container: %s %v %v", lowerIDs(lws), ok, err)
	}
	// The init layer dir is gone.
	must(t, os.RemoveAll(filepath.Join(s.home, idM+InitSuffix)))
	lws, ok, err := d.Lowers(idM)
	if err != nil || !ok || len(lws) != 4 || !errors.Is(lws[0].Err, ErrNoInit) || lws[1].ID != idL3 {
		t.Errorf("init missing: %+v %v %v", lws, ok, err)
	}
	// A malformed lower-id.
	write(t, filepath.Join(s.home, idM, "lower-id"), "../x")
	if _, ok, err := d.Lowers(idM); !ok || !errors.Is(err, ErrBadLowerID) {
		t.Errorf("malformed lower-id: %v %v", ok, err)
	}
	// No lower-id: nothing recorded.
	must(t, os.Remove(filepath.Join(s.home, idM, "lower-id")))
	if lws, ok, err := d.Lowers(idM); ok || err != nil || len(lws) != 0 {
		t.Errorf("no lower-id: %v %v %v", lws, ok, err)
	}
	// A lower layer's dir is gone: it is still listed, where it should be.
	must(t, os.RemoveAll(filepath.Join(s.home, idL2)))
	if lws, _, err := d.Lowers(idL3); err != nil || len(lws) != 2 || lws[0].Content != filepath.Join(s.home, idL2, "root") {
		t.Errorf("lower dir missing: %+v %v", lws, err)
	}
	// A layer record below is unreadable: the chain stops there, saying why.
	must(t, os.Remove(filepath.Join(s.root, "image", "overlay", "layerdb", "sha256", s.chains[0].Encoded(), "cache-id")))
	d = s.open(nil)
	if lws, _, _ := d.Lowers(idL3); len(lws) != 2 || lws[0].ID != idL2 || lws[1].Err == nil {
		t.Errorf("broken chain: %+v", lws)
	}
}

func TestParsePath(t *testing.T) {
	d := newStore(t).open(nil)
	for p, want := range map[string]backend.Path{
		"":                     {Kind: backend.PathDriverHome},
		idL1:                   {Kind: backend.PathLayerDir, ID: idL1},
		idL1 + "/root":         {Kind: backend.PathLayerContent, ID: idL1},
		idL1 + "/root/etc/x":   {Kind: backend.PathLayerEntry, ID: idL1, Rel: []string{"etc", "x"}},
		idM + "/upper":         {Kind: backend.PathLayerContent, ID: idM},
		idM + "/upper/a":       {Kind: backend.PathLayerEntry, ID: idM, Rel: []string{"a"}},
		idM + "/work/work":     {Kind: backend.PathLayerWork, ID: idM, Rel: []string{"work"}},
		idM + "/merged":        {Kind: backend.PathLayerMountpoint, ID: idM},
		idM + "/merged/etc":    {Kind: backend.PathMergedEntry, ID: idM, Rel: []string{"etc"}},
		idM + "/lower-id":      {Kind: backend.PathLayerFile, ID: idM, Name: "lower-id"},
		idL1 + "/tmproot123/x": {Kind: backend.PathLayerFile, ID: idL1, Name: "tmproot123", Rel: []string{"x"}},
	} {
		var parts []string
		if p != "" {
			parts = strings.Split(p, "/")
		}
		got := d.ParsePath(parts)
		if got.Kind != want.Kind || got.ID != want.ID || got.Name != want.Name || strings.Join(got.Rel, "/") != strings.Join(want.Rel, "/") {
			t.Errorf("ParsePath(%s) = %+v, want %+v", p, got, want)
		}
	}
	if _, ok := d.Bookkeeping("l"); ok {
		t.Error("the driver has no bookkeeping entries")
	}
	if _, _, err := d.ShortLink("ABC"); !errors.Is(err, backend.ErrNoShortLinks) || d.IsShortLink("ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		t.Errorf("short links: %v", err)
	}
}

// mount parses one mountinfo line.
func mount(t *testing.T, line string) mountinfo.Mount {
	t.Helper()
	tab, err := mountinfo.Parse(strings.NewReader(line + "\n"))
	if err != nil || len(tab) != 1 {
		t.Fatalf("mountinfo %q: %v", line, err)
	}
	return tab[0]
}

func TestDecodeMount(t *testing.T) {
	d := newStore(t).open(nil)
	home := "/var/lib/docker/overlay"
	// captured from Docker 20.10.24, --storage-driver=overlay (paths shortened)
	legacy := "47 44 0:39 / " + home + "/" + idM + "/merged rw,relatime shared:2 - overlay overlay rw,lowerdir=" +
		home + "/" + idL3 + "/root,upperdir=" + home + "/" + idM + "/upper,workdir=" + home + "/" + idM + "/work"
	md, pr, ok := d.DecodeMount(mount(t, legacy), home, "")
	if !ok || pr != nil || md.Upper != home+"/"+idM+"/upper" || md.Work != home+"/"+idM+"/work" ||
		len(md.Lowers) != 1 || md.Lowers[0] != home+"/"+idL3+"/root" || md.Relative {
		t.Errorf("legacy mount: %+v %+v %v", md, pr, ok)
	}
	if _, _, ok := d.DecodeMount(mount(t, legacy), "", ""); !ok {
		t.Error("legacy mount, home unknown: not decoded")
	}
	for name, line := range map[string]string{
		"overlay2":  "49 42 0:39 / /v/overlay2/eb/merged rw - overlay overlay rw,lowerdir=/v/overlay2/l/A:/v/overlay2/l/B,upperdir=/v/overlay2/eb/diff,workdir=/v/overlay2/eb/work",
		"relative":  "49 42 0:39 / /v/overlay2/eb/merged rw - overlay overlay rw,lowerdir=l/A:l/B,upperdir=eb/diff,workdir=eb/work",
		"elsewhere": "49 42 0:39 / /mnt rw - overlay overlay rw,lowerdir=/a,upperdir=/other/" + idM + "/upper,workdir=/other/w",
		"read-only": "49 42 0:39 / /mnt rw - overlay overlay ro,lowerdir=/a:/b",
		"tmpfs":     "50 24 0:40 / /tmp rw - tmpfs tmpfs rw",
	} {
		if md, pr, ok := d.DecodeMount(mount(t, line), home, ""); ok || pr != nil {
			t.Errorf("%s: decoded %+v %+v", name, md, pr)
		}
	}
	if _, pr, ok := d.DecodeMount(mountinfo.Mount{FSType: "overlay"}, "/", ""); !ok || pr == nil || !pr.Malformed {
		t.Errorf("options that do not parse: %+v %v", pr, ok)
	}
}

func TestTerms(t *testing.T) {
	tm := newStore(t).open(nil).Terms()
	if tm.ShortLinks || !tm.WorkDir || tm.WhiteoutFiles || tm.ReadOnlyMountIncludesSelf || !tm.HasContentSubdir {
		t.Errorf("traits %+v", tm)
	}
	for _, s := range []string{tm.Union, tm.Upper, tm.Lowers, tm.Stacking, tm.DirsHelp, tm.LowersFrom, tm.LowersHelp, tm.KindHelp["copied_up"]} {
		if s == "" {
			t.Errorf("a term is empty: %+v", tm)
		}
	}
	if !strings.Contains(tm.Stacking, "root/") || !strings.Contains(tm.KindHelp["copied_up"], "init layer") {
		t.Errorf("terms do not teach the driver: %+v", tm)
	}
}

// TestMetadataReadOnce: the driver's layer index and its Metadata share
// one read of each layerdb file.
func TestMetadataReadOnce(t *testing.T) {
	s := newStore(t)
	c := &countingFS{Opener: layerfs.OS{}, reads: map[string]int{}}
	d := s.open(c)
	if _, _, err := d.Lowers(idM); err != nil {
		t.Fatal(err)
	}
	f := d.Format()
	if _, err := f.ReadDir(openDir(t, filepath.Join(s.home, idL3, "root"))); err != nil {
		t.Fatal(err)
	}
	m := d.Metadata()
	if _, _, err := m.LayerIDs(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range s.chains {
		if l, err := m.Layer(ch); err != nil || l.CacheID == "" {
			t.Fatalf("Layer(%s): %+v %v", ch, l, err)
		}
	}
	n := 0
	for p, k := range c.reads {
		if strings.Contains(p, "/layerdb/") {
			n++
			if k != 1 {
				t.Errorf("%s read %d times", p, k)
			}
		}
	}
	if n != 3*4 { // diff, parent (the base's: a miss), cache-id, size of each
		t.Errorf("%d layerdb files read, want 12", n)
	}
}

// FuzzParsePath: any path below the home parses without panicking, and
// a layer's content, work and mount paths keep the layer id.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"", idL1, idL1 + "/root/etc/passwd", idM + "/upper", idM + "/work/work/#1",
		idM + "/merged/x", idM + "/lower-id", idL1 + "/tmproot1/a", "a/b/c/d"} {
		f.Add(s)
	}
	d := New().Open("/nonexistent", nil)
	f.Fuzz(func(t *testing.T, s string) {
		var parts []string
		if s != "" {
			parts = strings.Split(s, "/")
		}
		p := d.ParsePath(parts)
		if len(parts) > 0 && p.ID != parts[0] {
			t.Errorf("%q: id %q", s, p.ID)
		}
		if len(parts) > 1 && (p.Kind == backend.PathLayerEntry || p.Kind == backend.PathMergedEntry) && len(p.Rel) != len(parts)-2 {
			t.Errorf("%q: rel %q", s, p.Rel)
		}
		_ = isUpper(s, "/h")
	})
}
