package du

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// catalogStore is the demo plus three images built on demo/base:1, with
// repositories.json then rewritten so that every kind of image is there:
// demo/mid:1 loses its tag and keeps a child (intermediate), demo/top:1 is
// referenced by digest only, demo/old:1 loses its tag (dangling), and
// demo/app:2 gains a digest reference besides its tag.
func catalogStore(t *testing.T) *fixtures.Built {
	t.Helper()
	st := fixtures.Demo()
	layer := func(p string) []fixtures.Layer {
		return []fixtures.Layer{{CreatedBy: "/bin/sh -c echo " + p + " > /" + p, Entries: []fixtures.Entry{{Path: "/" + p, Data: p + " data\n"}}}}
	}
	st.Images = append(st.Images,
		fixtures.Image{Tags: []string{"demo/mid:1"}, Parent: "demo/base:1", Layers: layer("mid")},
		fixtures.Image{Tags: []string{"demo/top:1"}, Parent: "demo/mid:1", Layers: layer("top")},
		fixtures.Image{Tags: []string{"demo/old:1"}, Parent: "demo/base:1", Layers: layer("old")},
	)
	b := build(t, st)
	id := func(tag string) string { return b.Image(tag).ID.String() }
	repos := map[string]map[string]string{
		"demo/base": {"demo/base:1": id("demo/base:1"), "demo/base:latest": id("demo/base:1")},
		"demo/app":  {"demo/app:2": id("demo/app:2"), "demo/app@sha256:" + strings.Repeat("a", 64): id("demo/app:2")},
		"demo/top":  {"demo/top@sha256:" + strings.Repeat("b", 64): id("demo/top:1")},
	}
	data, err := json.Marshal(map[string]any{"Repositories": repos})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(b.Root, "image", "overlay2", "repositories.json"), string(data))
	return b
}

// TestCatalog checks Docker's listing rules and size numbers on every kind
// of image: which are counted (docker images without -a, /system/df),
// which dangling, SharedSize counting only counted images, the order of
// docker images, and the containers of each image.
func TestCatalog(t *testing.T) {
	b := catalogStore(t)
	s, err := inspect.Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := ReadCatalog(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Findings) != 0 {
		t.Errorf("findings on a clean store: %+v", cat.Findings)
	}
	base, app, mid, top, old := b.Image("demo/base:1"), b.Image("demo/app:2"), b.Image("demo/mid:1"), b.Image("demo/top:1"), b.Image("demo/old:1")
	var order []digest.Digest
	for _, im := range cat.Images {
		order = append(order, im.ID)
	}
	// built in this order, each later than the one before: newest first
	if want := []digest.Digest{old.ID, top.ID, mid.ID, app.ID, base.ID}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	own := func(im *fixtures.BuiltImage) int64 { return im.Layers[len(im.Layers)-1].Size }
	for _, tc := range []struct {
		name              string
		im                *fixtures.BuiltImage
		counted, dangling bool
		shared, unique    int64
		containers        []string
		refs              int
	}{
		{"base", base, true, false, base.Size, 0, []string{"batch"}, 2},
		{"app", app, true, false, base.Size, own(app), []string{"fresh", "web"}, 2},
		// mid's own layer is used by mid and top, but mid is not counted:
		// only top counts it, so it is not shared
		{"mid", mid, false, false, base.Size, own(mid), []string{}, 0},
		{"top", top, true, false, base.Size, own(mid) + own(top), []string{}, 1},
		{"old", old, true, true, base.Size, own(old), []string{}, 0},
	} {
		im := cat.Image(tc.im.ID)
		if im == nil {
			t.Fatalf("%s: not in the catalog", tc.name)
		}
		if im.Counted != tc.counted || im.Dangling != tc.dangling || im.Size != tc.im.Size || im.SharedSize != tc.shared ||
			im.UniqueSize != tc.unique || im.Containers != len(tc.containers) || len(im.Tags) != tc.refs || len(im.Layers) != len(tc.im.Layers) {
			t.Errorf("%s: %+v\nwant counted %v dangling %v size %d shared %d unique %d containers %v refs %d",
				tc.name, im, tc.counted, tc.dangling, tc.im.Size, tc.shared, tc.unique, tc.containers, tc.refs)
		}
		if got := cat.ContainersOf(tc.im.ID); !reflect.DeepEqual(got, tc.containers) {
			t.Errorf("%s: containers %v, want %v", tc.name, got, tc.containers)
		}
		if im.DiskUsage != 0 || len(im.MissingLayers) != 0 {
			t.Errorf("%s: disk usage %d (nothing is walked), missing %v", tc.name, im.DiskUsage, im.MissingLayers)
		}
	}
	if mid.Parent == "" || cat.Image(mid.ID).Children != 1 || cat.Image(top.ID).Parent != mid.ID {
		t.Errorf("parent links: mid %+v top %+v", cat.Image(mid.ID), cat.Image(top.ID))
	}
	midLayer := cat.Layer(mid.TopChainID())
	if midLayer == nil || midLayer.Refcount != 2 || midLayer.Shared || midLayer.MeasuredSize != -1 || midLayer.Size != own(mid) {
		t.Errorf("mid's layer: %+v", midLayer)
	}
	if l := cat.Layer(base.Layers[0].ChainID); l == nil || l.Refcount != 5 || !l.Shared || l.Containers != 3 {
		t.Errorf("base layer: %+v", l)
	}
	if cat.Layer(digest.FromString("nope")) != nil || cat.Image(digest.FromString("nope")) != nil {
		t.Error("lookup of an unknown ID found something")
	}

	// Audit gives the same Docker numbers: both come from shareLayers.
	r := audit(t, b.Root, Options{})
	for _, im := range r.Images {
		c := cat.Image(im.ID)
		if c.Size != im.Size || c.SharedSize != im.SharedSize || c.UniqueSize != im.UniqueSize || c.Counted != im.Counted || c.Containers != im.Containers {
			t.Errorf("image %s: catalog %+v, audit %+v", im.ID, c, im)
		}
	}
}

// TestCatalogDamage: a layer dir removed and a layerdb entry removed are
// findings naming them; the image sizes leave out only the layer layerdb
// lost, and every image is still listed.
func TestCatalogDamage(t *testing.T) {
	b := catalogStore(t)
	old, top := b.Image("demo/old:1"), b.Image("demo/top:1")
	gone := old.Layers[len(old.Layers)-1]
	if err := os.RemoveAll(filepath.Join(b.Root, "overlay2", gone.CacheID)); err != nil {
		t.Fatal(err)
	}
	lost := top.Layers[len(top.Layers)-1]
	if err := os.RemoveAll(filepath.Join(b.Root, "image", "overlay2", "layerdb", "sha256", lost.ChainID.Encoded())); err != nil {
		t.Fatal(err)
	}
	s, err := inspect.Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := ReadCatalog(s)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]inspect.Finding{}
	for _, f := range cat.Findings {
		kinds[f.Kind.String()] = f
	}
	if f := kinds["layer_dir_missing"]; f.Path != filepath.Join(b.Root, "overlay2", gone.CacheID) || !strings.Contains(f.Message, string(gone.ChainID)) {
		t.Errorf("layer_dir_missing: %+v", f)
	}
	if f := kinds["image_layer_missing"]; !strings.Contains(f.Path, lost.ChainID.Encoded()) || !strings.Contains(f.Message, "demo/top@sha256:") {
		t.Errorf("image_layer_missing: %+v", f)
	}
	if len(cat.Findings) != 2 || len(cat.Images) != 5 {
		t.Errorf("findings %+v, %d images", cat.Findings, len(cat.Images))
	}
	if im := cat.Image(old.ID); im.Size != old.Size || !reflect.DeepEqual(im.MissingLayers, []digest.Digest{gone.ChainID}) {
		t.Errorf("old: size %d (want %d: layerdb still has the size), missing %v", im.Size, old.Size, im.MissingLayers)
	}
	if im := cat.Image(top.ID); im.Size != top.Size-lost.Size || !reflect.DeepEqual(im.MissingLayers, []digest.Digest{lost.ChainID}) {
		t.Errorf("top: size %d (want %d), missing %v", im.Size, top.Size-lost.Size, im.MissingLayers)
	}
	if l := cat.Layer(gone.ChainID); l == nil || !l.Missing {
		t.Errorf("layer of old: %+v", l)
	}
}
