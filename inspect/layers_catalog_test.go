package inspect

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestImageLayersDemo: every layer of demo/app:2 as the builder wrote it,
// and the history with its empty_layer entries in place.
func TestImageLayersDemo(t *testing.T) {
	s, b := demoStore(t)
	app := b.Image("demo/app:2")
	img, err := s.FindImage("demo/app:2")
	if err != nil {
		t.Fatal(err)
	}
	x := s.ImageLayers(img)
	if len(x.Findings) != 0 {
		t.Errorf("findings on a clean store: %+v", x.Findings)
	}
	if len(x.Layers) != len(app.Layers) || x.DriverDir != filepath.Join(b.Root, "overlay2") {
		t.Fatalf("%d layers (want %d), driver dir %s", len(x.Layers), len(app.Layers), x.DriverDir)
	}
	for i, bl := range app.Layers {
		l := x.Layers[i]
		dir := filepath.Join(b.Root, "overlay2", bl.CacheID)
		if l.Position != i+1 || l.DiffID != bl.DiffID || l.ChainID != bl.ChainID || l.CacheID != bl.CacheID || l.Link != bl.Link ||
			l.Size != bl.Size || l.CreatedBy != bl.CreatedBy || l.Dir != dir || l.DiffDir != filepath.Join(dir, "diff") ||
			l.Created.IsZero() || len(l.Problems) != 0 {
			t.Errorf("layer %d: %+v\nbuilt %+v", i+1, l, bl)
		}
	}
	// ADD, ENV, RUN, ARG, RUN, LABEL, CMD (demo/base:1), COPY, CMD
	var layerOf []int
	var sizes []int64
	for _, h := range x.History {
		layerOf = append(layerOf, h.Layer)
		sizes = append(sizes, h.Size)
		if h.EmptyLayer != (h.Layer == 0) {
			t.Errorf("history entry %+v", h)
		}
	}
	if want := []int{1, 0, 2, 0, 3, 0, 0, 4, 0}; !reflect.DeepEqual(layerOf, want) {
		t.Errorf("history layers %v, want %v", layerOf, want)
	}
	if want := []int64{app.Layers[0].Size, 0, app.Layers[1].Size, 0, app.Layers[2].Size, 0, 0, app.Layers[3].Size, 0}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("history sizes %v, want %v", sizes, want)
	}
	if !strings.Contains(x.History[1].CreatedBy, "ENV PATH=") || !strings.Contains(x.History[8].CreatedBy, `CMD ["/app/bin/app"]`) {
		t.Errorf("empty entries: %+v, %+v", x.History[1], x.History[8])
	}
}

// TestImageLayersDamage: each kind of damage is a finding naming the path
// and a problem of its layer; the other layers are still read.
func TestImageLayersDamage(t *testing.T) {
	s, b := demoStore(t)
	ls := b.Image("demo/app:2").Layers
	home := filepath.Join(b.Root, "overlay2")
	// 1: l/ link points at another layer; 2: dir gone; 3: l/ link gone;
	// 4: layerdb entry gone
	rm(t, filepath.Join(home, "l", ls[0].Link))
	if err := os.Symlink("../"+ls[2].CacheID+"/diff", filepath.Join(home, "l", ls[0].Link)); err != nil {
		t.Fatal(err)
	}
	rm(t, filepath.Join(home, ls[1].CacheID))
	rm(t, filepath.Join(home, "l", ls[2].Link))
	rm(t, s.LayerPath(ls[3].ChainID))
	img, err := s.FindImage("demo/app:2")
	if err != nil {
		t.Fatal(err)
	}
	x := s.ImageLayers(img)
	want := []struct {
		kind, path string
	}{
		{"link_mismatch", filepath.Join(home, "l", ls[0].Link)},
		{"layer_dir_missing", filepath.Join(home, ls[1].CacheID)},
		{"link_missing", filepath.Join(home, "l", ls[2].Link)},
		{"layerdb_missing", s.LayerPath(ls[3].ChainID)},
	}
	if len(x.Findings) != len(want) || len(x.Layers) != 4 {
		t.Fatalf("findings %+v, %d layers", x.Findings, len(x.Layers))
	}
	for i, w := range want {
		f, l := x.Findings[i], x.Layers[i]
		if f.Kind.String() != w.kind || f.Path != w.path || !reflect.DeepEqual(l.Problems, []FindingKind{FindingKind(w.kind)}) {
			t.Errorf("layer %d: finding %+v problems %v, want %s at %s", i+1, f, l.Problems, w.kind, w.path)
		}
		if l.ChainID != ls[i].ChainID || l.DiffID != ls[i].DiffID || l.CreatedBy != ls[i].CreatedBy {
			t.Errorf("layer %d: %+v", i+1, l)
		}
	}
	// what is still known is still shown
	if x.Layers[1].CacheID != ls[1].CacheID || x.Layers[1].Size != ls[1].Size || x.Layers[2].Link != ls[2].Link {
		t.Errorf("layers 2, 3: %+v %+v", x.Layers[1], x.Layers[2])
	}
	if l := x.Layers[3]; l.CacheID != "" || l.Size != 0 || l.Dir != "" {
		t.Errorf("layer 4 has no layerdb entry: %+v", l)
	}
}

// TestImageLayersBadChain: a layerdb entry whose files disagree with the
// image config, and a history with too few entries.
func TestImageLayersBadChain(t *testing.T) {
	s, b := demoStore(t)
	ls := b.Image("demo/base:1").Layers
	db := s.LayerPath(ls[1].ChainID)
	write(t, filepath.Join(db, "diff"), string(ls[0].DiffID))
	write(t, filepath.Join(db, "parent"), string(ls[1].ChainID))
	img, err := s.FindImage("demo/base:1")
	if err != nil {
		t.Fatal(err)
	}
	var hist []History
	for _, h := range img.Config.History {
		if !strings.Contains(h.CreatedBy, "mkdir -p /app/bin") {
			hist = append(hist, h)
		}
	}
	img.Config.History = hist
	x := s.ImageLayers(img)
	var kinds []string
	for _, f := range x.Findings {
		kinds = append(kinds, f.Kind.String())
	}
	if want := []string{"history_mismatch", "diff_id_mismatch", "parent_mismatch", "chain_id_mismatch"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("findings %v, want %v", kinds, want)
	}
	if x.Layers[2].CreatedBy != "" || len(x.History) != len(hist) || x.Layers[0].CreatedBy == "" {
		t.Errorf("layers %+v history %d entries", x.Layers, len(x.History))
	}
}
