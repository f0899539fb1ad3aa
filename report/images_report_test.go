package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/opencontainers/go-digest"
)

func TestImagesTableRefs(t *testing.T) {
	id := func(c string) digest.Digest { return digest.Digest("sha256:" + strings.Repeat(c, 64)) }
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	cat := &du.Catalog{
		Images: []du.Image{
			{ID: id("a"), Tags: []string{"app:1", "app@sha256:" + strings.Repeat("d", 64)}, Counted: true, Created: now.Add(-3 * time.Hour),
				Layers: []digest.Digest{id("1"), id("2")}, Size: 2_500_000, SharedSize: 1_000_000, UniqueSize: 1_500_000, Containers: 1},
			{ID: id("b"), Tags: []string{"pulled@sha256:" + strings.Repeat("e", 64)}, Counted: true, Layers: []digest.Digest{id("1")}},
			{ID: id("c"), Tags: []string{}, Dangling: true, Counted: true, MissingLayers: []digest.Digest{id("3")}, Layers: []digest.Digest{id("3")}},
			{ID: id("f"), Tags: []string{}, Children: 1, Layers: []digest.Digest{id("1")}},
		},
		Containers: []du.Container{{Name: "web\nx", ImageID: id("a")}},
	}
	var buf bytes.Buffer
	if err := Images(&buf, cat, now, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	for i, want := range []string{
		"IMAGE ID       TAGS                         CREATED       LAYERS          SIZE    SHARED SIZE   UNIQUE SIZE   CONTAINERS",
		"aaaaaaaaaaaa   app:1                        3 hours ago   2               2.5MB   1MB           1.5MB         1: web\\nx",
		"bbbbbbbbbbbb   pulled@sha256:eeeeeeeeeeee   -             1               0B      0B            0B            0",
		"cccccccccccc   <none> (dangling)            -             1 (1 missing)   0B      0B            0B            0",
		"ffffffffffff   <none> (intermediate)        -             1               0B      0B            0B            0",
	} {
		if i >= len(lines) || lines[i] != want {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[min(i, len(lines)-1)], want)
		}
	}
	rows := ImageRows(cat, nil)
	if strings.Join(rows[0].Tags, ",") != "app:1" || len(rows[0].Digests) != 1 || len(rows[1].Tags) != 0 || rows[1].Digests[0] != "pulled@sha256:"+strings.Repeat("e", 64) {
		t.Errorf("tags and digests: %+v %+v", rows[0], rows[1])
	}
}

// TestLayersTableHistoryMismatch: a layer the history does not name is
// still a row; an empty_layer entry has no position.
func TestLayersTableHistoryMismatch(t *testing.T) {
	img := &inspect.Image{ID: digest.Digest("sha256:" + strings.Repeat("a", 64)), Tags: []string{"x:1"}}
	x := &inspect.ImageLayers{Image: img, DriverDir: "/r/overlay2",
		Layers: []inspect.ImageLayer{
			{Position: 1, ChainID: "sha256:" + digest.Digest(strings.Repeat("1", 64)), CacheID: strings.Repeat("c", 64), Link: "ABC", Size: 5, CreatedBy: "", Comment: "Imported from -", Problems: []inspect.FindingKind{}},
			{Position: 2, ChainID: "sha256:" + digest.Digest(strings.Repeat("2", 64)), Size: 7, Problems: []inspect.FindingKind{"layerdb_missing"}},
		},
		History: []inspect.HistoryEntry{{History: inspect.History{Comment: "Imported from -"}, Layer: 1, Size: 5},
			{History: inspect.History{CreatedBy: "/bin/sh -c #(nop)  CMD [\"sh\"]", EmptyLayer: true}}},
	}
	var buf bytes.Buffer
	if err := LayersTable(&buf, x, &du.Catalog{}, LayersOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Image x:1 (aaaaaaaaaaaa): 2 layers",
		"1     5B     0        -         111111111111   cccccccccccc   l/ABC   ok                Imported from -\n",
		"-     0B                                                                                CMD [\"sh\"]\n",
		"2     7B     0        -         222222222222   -              -       layerdb_missing   (no history entry)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
