package whose

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// demoStore builds the demo store and opens it.
func demoStore(t *testing.T) (*inspect.Store, *fixtures.Built) {
	t.Helper()
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	s, err := inspect.Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

// aufsTwin is the demo store and its aufs twin, opened.
func aufsTwin(t *testing.T) (ov, au *inspect.Store, b *fixtures.Built) {
	t.Helper()
	ov, b = demoStore(t)
	dst := filepath.Join(t.TempDir(), "aufs-root")
	if _, err := fixtures.AUFSTwin(b.Root, dst, fixtures.TwinOptions{}); err != nil {
		t.Fatal(err)
	}
	au, err := inspect.Open(dst, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	if au.Driver != "aufs" {
		t.Fatalf("twin opened as %s", au.Driver)
	}
	return ov, au, b
}

// whoseDemo builds the demo store and returns it with a helper that asks
// and fails the test on error.
func whoseDemo(t *testing.T) (*inspect.Store, *fixtures.Built, func(arg string, opt ...Options) *Answer) {
	t.Helper()
	s, b := demoStore(t)
	ask := func(arg string, opt ...Options) *Answer {
		t.Helper()
		o := Options{}
		if len(opt) > 0 {
			o = opt[0]
		}
		a, err := Ask(s, arg, o)
		if err != nil {
			t.Fatalf("whose %s: %v", arg, err)
		}
		return a
	}
	return s, b, ask
}

// layerOf is the cache-id of layer pos (1 = base) of image tag.
func layerOf(b *fixtures.Built, tag string, pos int) string {
	return b.Image(tag).Layers[pos-1].CacheID
}

func viewOf(a *Answer, of, name string) *View {
	for i := range a.Views {
		if string(a.Views[i].Of) == of && a.Views[i].Name == name {
			return &a.Views[i]
		}
	}
	return nil
}

// hitString is "rw", "init" or "image N", plus the entry and its path.
func hitString(h *Hit) string {
	if h == nil {
		return "-"
	}
	who := string(h.Role)
	if h.Role == RoleImage {
		who = fmt.Sprintf("image %d", h.Position)
	}
	return who + " " + h.Entry + " " + h.Path
}

// TestWhoseLayerEntries: for a path inside a layer's diff/, the entry in
// that layer and, per container and image, what the union shows.
func TestWhoseLayerEntries(t *testing.T) {
	_, b, ask := whoseDemo(t)
	type want struct {
		result    ViewResult
		by, below string
	}
	for _, tc := range []struct {
		tag   string // the layer: image tag and position
		pos   int
		path  string
		kind  EntryKind // entry kind ("" = not in the layer)
		views map[string]want
	}{
		{"demo/base:1", 1, "/etc/group", "plain", map[string]want{
			"container web": {ViewVisible, "-", "-"}, "container batch": {ViewVisible, "-", "-"},
			"container fresh": {ViewVisible, "-", "-"}, "image demo/base:1": {ViewVisible, "-", "-"}, "image demo/app:2": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 1, "/etc/passwd", "plain", map[string]want{
			"container web": {ViewShadowed, "rw file /etc/passwd", "-"}, "container batch": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 1, "/bin/ls", "plain", map[string]want{
			"container web": {ViewWhitedOut, "rw whiteout /bin/ls", "-"}, "container fresh": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 1, "/usr/share/doc/b.txt", "plain", map[string]want{
			"container web": {ViewHidden, "rw whiteout /usr/share/doc", "-"}, "container batch": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 1, "/usr/share/doc/a.txt", "plain", map[string]want{
			"container web":     {ViewHidden, "rw whiteout /usr/share/doc", "-"},
			"container batch":   {ViewWhitedOut, "image 3 whiteout /usr/share/doc/a.txt", "-"},
			"image demo/base:1": {ViewWhitedOut, "image 3 whiteout /usr/share/doc/a.txt", "-"}}},
		{"demo/base:1", 3, "/usr/share/doc/a.txt", "whiteout", map[string]want{
			"container batch": {ViewDeletes, "-", "image 1 file /usr/share/doc/a.txt"},
			"container web":   {ViewHidden, "rw whiteout /usr/share/doc", "-"}}},
		{"demo/base:1", 3, "/app/data/1", "plain", map[string]want{
			"container web":   {ViewHidden, "rw opaque dir /app/data", "-"},
			"container fresh": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 3, "/app/data", "plain", map[string]want{
			"container web": {ViewShadowed, "rw opaque dir /app/data", "-"}}},
		{"demo/base:1", 3, "/app", "plain", map[string]want{
			"container web":   {ViewMerged, "rw dir /app", "-"},
			"container batch": {ViewVisible, "-", "image 2 dir /app"}}},
		{"demo/base:1", 3, "/app/bin/app", "plain", map[string]want{
			"container batch":  {ViewVisible, "-", "-"},
			"container fresh":  {ViewShadowed, "image 4 file /app/bin/app", "-"},
			"container web":    {ViewShadowed, "rw file /app/bin/app", "-"},
			"image demo/app:2": {ViewShadowed, "image 4 file /app/bin/app", "-"}}},
		// not in this layer: what the view shows instead
		{"demo/base:1", 2, "/etc/passwd", "", map[string]want{
			"container batch": {ViewFrom, "image 1 file /etc/passwd", "-"},
			"container web":   {ViewFrom, "rw file /etc/passwd", "-"}}},
	} {
		t.Run(fmt.Sprintf("layer %d %s", tc.pos, tc.path), func(t *testing.T) {
			id := layerOf(b, tc.tag, tc.pos)
			a := ask(filepath.Join("overlay2", id, "diff", tc.path))
			if a.Kind != PathLayerEntry || a.InLayer != tc.path || a.Owner.Kind != OwnerImageLayer || a.LayerDir != id {
				t.Fatalf("kind %s in %s owner %+v", a.Kind, a.InLayer, a.Owner)
			}
			if a.Entry == nil || a.Entry.Kind != tc.kind || a.Entry.Exists != (tc.kind != "") || a.Exists != (tc.kind != "") {
				t.Errorf("entry %+v, want kind %q", a.Entry, tc.kind)
			}
			if len(a.Views) != 5 {
				t.Errorf("%d views, want 3 containers and 2 images", len(a.Views))
			}
			for name, w := range tc.views {
				of, n, _ := strings.Cut(name, " ")
				v := viewOf(a, of, n)
				if v == nil {
					t.Errorf("%s: no view", name)
					continue
				}
				if v.Result != w.result || hitString(v.By) != w.by || hitString(v.Below) != w.below || v.Role != "image" || v.Position != tc.pos {
					t.Errorf("%s: %s by %s below %s (at %s %d), want %s by %s below %s",
						name, v.Result, hitString(v.By), hitString(v.Below), v.Role, v.Position, w.result, w.by, w.below)
				}
			}
			if a.Verdict.Safe != SafeNo || !strings.Contains(a.Verdict.Reason, "diff ID") {
				t.Errorf("verdict %+v", a.Verdict)
			}
		})
	}
}

// TestWhoseRWAndInit: entries of a container's own layers.
func TestWhoseRWAndInit(t *testing.T) {
	_, b, ask := whoseDemo(t)
	web, batch := b.Container("web"), b.Container("batch")
	for _, tc := range []struct {
		arg    string
		owner  OwnerKind
		role   Role
		result ViewResult
		below  string
	}{
		{"overlay2/" + web.MountID + "/diff/etc/passwd", OwnerRWLayer, "rw", ViewVisible, "image 1 file /etc/passwd"},
		{"overlay2/" + web.MountID + "/diff/bin/ls", OwnerRWLayer, "rw", ViewDeletes, "image 1 file /bin/ls"},
		{"overlay2/" + web.MountID + "/diff/app/new.log", OwnerRWLayer, "rw", ViewVisible, "-"},
		{"overlay2/" + web.MountID + "/diff/app/data", OwnerRWLayer, "rw", ViewVisible, "image 3 dir /app/data"},
		{"overlay2/" + web.InitID + "/diff/etc/hosts", OwnerInitLayer, "init", ViewVisible, "-"},
		{"overlay2/" + web.InitID + "/diff/etc", OwnerInitLayer, "init", ViewMerged, "-"},
	} {
		a := ask(tc.arg)
		if a.Owner.Kind != tc.owner || a.Owner.Container == nil || a.Owner.Container.Name != "web" || len(a.Views) != 1 {
			t.Errorf("%s: owner %+v, %d views", tc.arg, a.Owner, len(a.Views))
			continue
		}
		v := a.Views[0]
		if v.Of != "container" || v.Name != "web" || v.Role != tc.role || v.Result != tc.result || hitString(v.Below) != tc.below {
			t.Errorf("%s: %+v below %s", tc.arg, v, hitString(v.Below))
		}
		if a.Verdict.Safe != SafeNo {
			t.Errorf("%s: verdict %+v (web is running)", tc.arg, a.Verdict)
		}
	}
	if a := ask("overlay2/" + web.MountID + "/diff/app/data"); a.Entry.Kind != "opaque_dir" {
		t.Errorf("opaque dir entry %+v", a.Entry)
	}
	// A stopped container's change: deleting it undoes it.
	a := ask("overlay2/" + batch.MountID + "/diff/tmp/result.txt")
	if a.Verdict.Safe != SafeCaution || !strings.Contains(a.Verdict.Reason, "stopped") || !strings.Contains(a.Verdict.Reason, "nothing") {
		t.Errorf("stopped container's file: %+v", a.Verdict)
	}
	a = ask("overlay2/" + batch.MountID + "/diff/tmp")
	if a.Verdict.Safe != SafeCaution || !strings.Contains(a.Verdict.Reason, "image layer 1") {
		t.Errorf("stopped container's copied-up dir: %+v", a.Verdict)
	}
	// The mount point's view: where a path of the container comes from.
	a = ask("overlay2/" + web.MountID + "/merged/etc/group")
	if a.Kind != PathMergedEntry || len(a.Views) != 1 || a.Views[0].Result != ViewFrom || hitString(a.Views[0].By) != "image 1 file /etc/group" {
		t.Errorf("merged entry: %s %+v", a.Kind, a.Views)
	}
	a = ask("overlay2/" + web.MountID + "/merged/bin/ls")
	if len(a.Views) != 1 || a.Views[0].Result != ViewAbsent || hitString(a.Views[0].By) != "rw whiteout /bin/ls" || a.Verdict.Safe != SafeNo {
		t.Errorf("merged deleted entry: %+v %+v", a.Views, a.Verdict)
	}
}

// TestWhoseLayerDirs: the dirs and files of layers, short links, and
// bare names.
func TestWhoseLayerDirs(t *testing.T) {
	s, b, ask := whoseDemo(t)
	web := b.Container("web")
	base := b.Image("demo/base:1").Layers[0]
	root, _ := filepath.Abs(b.Root)

	a := ask(filepath.Join(root, "overlay2", base.CacheID))
	l := a.Owner.Layer
	if a.Kind != PathLayerDir || a.Owner.Kind != OwnerImageLayer || l == nil || l.ChainID != base.ChainID || l.DiffID != base.DiffID || l.Size != base.Size || l.Link != base.Link {
		t.Fatalf("base layer dir: %s %+v", a.Kind, a.Owner)
	}
	pos := map[string]string{}
	for _, im := range l.Images {
		pos[im.Tags[0]] = fmt.Sprintf("%d/%d %s", im.Position, im.Layers, im.CreatedBy)
	}
	if !strings.HasPrefix(pos["demo/base:1"], "1/3 /bin/sh -c #(nop) ADD file:") || !strings.HasPrefix(pos["demo/app:2"], "1/4 ") || len(l.Containers) != 3 {
		t.Errorf("images %v, %d containers", pos, len(l.Containers))
	}
	if a.Verdict.Safe != SafeNo || !strings.Contains(a.Verdict.Reason, "used by 3 containers") || !strings.Contains(a.Verdict.Instead, "docker rmi") {
		t.Errorf("verdict %+v", a.Verdict)
	}
	top := b.Image("demo/app:2").Layers[3]
	if a := ask("overlay2/" + top.CacheID); len(a.Owner.Layer.Images) != 1 || a.Owner.Layer.Images[0].Position != 4 || len(a.Owner.Layer.Containers) != 2 {
		t.Errorf("app layer: %+v", a.Owner.Layer)
	}

	for _, tc := range []struct {
		arg   string
		kind  PathKind
		owner OwnerKind
		name  string
	}{
		{"overlay2/" + web.MountID, PathLayerDir, OwnerRWLayer, ""},
		{"overlay2/" + web.MountID + "/diff", PathLayerContent, OwnerRWLayer, ""},
		{"overlay2/" + web.MountID + "/work", PathLayerWork, OwnerRWLayer, ""},
		{"overlay2/" + web.MountID + "/lower", PathLayerFile, OwnerRWLayer, "lower"},
		{"overlay2/" + web.InitID, PathLayerDir, OwnerInitLayer, ""},
		{web.MountID, PathLayerDir, OwnerRWLayer, ""},                // bare mount-id
		{web.InitID, PathLayerDir, OwnerInitLayer, ""},               // bare init-id
		{base.CacheID, PathLayerDir, OwnerImageLayer, ""},            // bare cache-id
		{string(base.ChainID), PathLayerRecord, OwnerImageLayer, ""}, // bare chain ID
		{web.ID, PathContainerDir, OwnerContainer, ""},               // bare container ID
		{"overlay2/l", PathDriverBookkeeping, OwnerBookkeeping, ""},
		{"overlay2", PathDriverHome, OwnerDocker, ""},
		{".", PathDataRoot, OwnerDocker, ""},
		{root, PathDataRoot, OwnerDocker, ""},
	} {
		a := ask(tc.arg)
		if a.Kind != tc.kind || a.Owner.Kind != tc.owner || a.Name != tc.name || !a.Exists {
			t.Errorf("%s: kind %s owner %s name %q exists %v", tc.arg, a.Kind, a.Owner.Kind, a.Name, a.Exists)
		}
		if (tc.owner == OwnerRWLayer || tc.owner == OwnerInitLayer) && a.Owner.Container.ID != web.ID {
			t.Errorf("%s: container %+v", tc.arg, a.Owner.Container)
		}
		if a.Verdict.Safe != SafeNo {
			t.Errorf("%s: verdict %+v", tc.arg, a.Verdict)
		}
	}
	if a := ask("overlay2/" + web.MountID + "/diff"); a.Usage == nil || a.Usage.Size != web.SizeRw || a.Verdict.Instead != "docker rm web" {
		t.Errorf("rw dir: usage %+v (SizeRw %d), verdict %+v", a.Usage, web.SizeRw, a.Verdict)
	}

	// l/<LINK> and the bare link: read as text, never followed.
	for _, arg := range []string{"overlay2/l/" + base.Link, base.Link} {
		a := ask(arg)
		if a.Kind != PathShortLink || a.Link == nil || a.Link.LayerDir != base.CacheID || a.Link.Target != "../"+base.CacheID+"/diff" ||
			a.Link.Dangling || a.Owner.Kind != OwnerImageLayer || a.Type != "symlink" || a.Verdict.Safe != SafeNo {
			t.Errorf("%s: %s %+v %+v %+v", arg, a.Kind, a.Link, a.Owner, a.Verdict)
		}
	}
	a = ask("overlay2/l/" + base.Link + "/etc/passwd")
	if a.Kind != PathLayerEntry || a.LayerDir != base.CacheID || a.InLayer != "/etc/passwd" || len(a.Notes) == 0 || !strings.Contains(a.Notes[0], "not followed") {
		t.Errorf("through a short link: %s %s %s %v", a.Kind, a.LayerDir, a.InLayer, a.Notes)
	}
	dangling := "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"
	if err := os.Symlink("../"+strings.Repeat("9", 64)+"/diff", s.Path("overlay2", "l", dangling)); err != nil {
		t.Fatal(err)
	}
	a = ask(dangling)
	if a.Link == nil || !a.Link.Dangling || a.Verdict.Safe != SafeYes {
		t.Errorf("dangling link: %+v %+v", a.Link, a.Verdict)
	}
	if err := os.Symlink("/etc", s.Path("overlay2", "l", "YYYYYYYYYYYYYYYYYYYYYYYYYY")); err != nil {
		t.Fatal(err)
	}
	a = ask("overlay2/l/YYYYYYYYYYYYYYYYYYYYYYYYYY")
	if a.Owner.Kind != OwnerUnknown || a.Link == nil || a.Link.Error == "" || a.Verdict.Safe != SafeCaution {
		t.Errorf("foreign link: %+v %+v", a.Link, a.Owner)
	}
}
