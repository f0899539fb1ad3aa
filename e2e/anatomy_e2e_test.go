package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
)

// The waste image: /big deleted a layer later (5,120,000 bytes),
// /over written twice (the first 2,048,000 bytes), /keep rewritten (2).
const wasteDockerfile = `FROM e2e-base:1
RUN dd if=/dev/zero of=/big bs=1k count=5000 && echo a > /keep
RUN rm /big && echo b > /keep
RUN dd if=/dev/zero of=/over bs=1k count=2000
RUN dd if=/dev/zero of=/over bs=1k count=1000
`

// wasteBytes is that image's waste, exactly; dive's inefficientBytes on
// the same image also counts the live copies of /over and /keep (8,192,004).
const wasteBytes = 5_120_000 + 2_048_000 + 2

// The opaque image: the later layer replaces /d (rm -rf, mkdir: an
// opaque dir in overlayfs), hiding /d/a (3000 bytes) and /d/sub/c (3).
const opaqueDockerfile = `FROM e2e-base:1
RUN mkdir -p /d/sub && dd if=/dev/zero of=/d/a bs=1000 count=3 && echo hi > /d/sub/c
RUN rm -rf /d && mkdir /d && echo new > /d/new
`

const opaqueHidden = 3000 + 3

// TestLayersContentsE2E: layers --contents on images a real engine built,
// on overlay2 (and its aufs twin), the legacy overlay driver and Docker
// 29's containerd store: the waste exactly, the opaque dir's hidden bytes
// exactly, and each image layer's size equal to Docker's (its history).
func TestLayersContentsE2E(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opt       engine.Options
		sizesFrom int
		hiddenAs  inspect.DeadKind
	}{
		{"overlay2", engine.Options{}, 1, inspect.DeadHidden},
		{"overlay", engine.Options{StorageDriver: "overlay"}, 2, inspect.DeadDeleted},
		{"containerd", engine.Options{Kind: engine.Docker29}, 0, inspect.DeadDeleted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.ForTestWith(t, "", tc.opt)
			if _, err := e.ImportBusybox("e2e-base:1"); err != nil {
				t.Fatal(err)
			}
			for tag, df := range map[string]string{"waste:1": wasteDockerfile, "opaque:1": opaqueDockerfile} {
				if out, err := e.Build(tag, df, nil); err != nil {
					t.Fatalf("%s: %v\n%s", tag, err, out)
				}
			}
			sizes := map[string][]int64{}
			for _, tag := range []string{"waste:1", "opaque:1"} {
				var hist []struct {
					Size      int64
					CreatedBy string
				}
				if err := e.API(http.MethodGet, "/images/"+tag+"/history", nil, &hist); err != nil {
					t.Fatal(err)
				}
				for i := len(hist) - 1; i >= 0; i-- { // oldest first
					if !isEmptyLayer(hist[i].CreatedBy) {
						sizes[tag] = append(sizes[tag], hist[i].Size)
					}
				}
			}
			if err := e.Stop(); err != nil {
				t.Fatal(err)
			}
			checkAnatomy(t, e.Root(), sizes, tc.sizesFrom, tc.hiddenAs)
			if tc.name == "overlay2" {
				twin := filepath.Join(t.TempDir(), "aufs")
				if _, err := fixtures.AUFSTwin(e.Root(), twin, fixtures.TwinOptions{}); err != nil {
					t.Fatal(err)
				}
				t.Run("aufs twin", func(t *testing.T) { checkAnatomy(t, twin, sizes, 1, inspect.DeadHidden) })
			}
		})
	}
}

// isEmptyLayer: a history entry that made no layer (ENV, CMD…): the
// history API has no empty_layer field; the classic builder's #(nop)
// entries but ADD and COPY made none.
func isEmptyLayer(createdBy string) bool {
	return strings.Contains(createdBy, "#(nop) ") && !strings.Contains(createdBy, "#(nop) ADD") && !strings.Contains(createdBy, "#(nop) COPY")
}

// checkAnatomy checks layers --contents of the images on root. sizes are
// each layer's size in docker history, compared from layer from on (0:
// none): the legacy overlay driver's layerdb size of an imported layer is
// its tar's file bytes, without the st_size of its symlinks; Docker 29's
// history on the containerd store gives each snapshot's disk usage
// (blocks), not a content size. hiddenAs is
// how the store keeps the opaque image's replaced dir.
func checkAnatomy(t *testing.T, root string, sizes map[string][]int64, from int, hiddenAs inspect.DeadKind) {
	t.Helper()
	get := func(tag string) *anatomy.Report {
		out, errOut, code := runCLI("--root", root, "--mountinfo", "none", "--daemon", "off", "--format", "json", "layers", "--contents", tag)
		if code != 0 {
			t.Fatalf("layers --contents %s: exit %d: %s", tag, code, errOut)
		}
		var r anatomy.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if !r.Complete {
			t.Errorf("%s: incomplete: %v", tag, r.Findings)
		}
		if from > 0 {
			for i, l := range r.Layers {
				if l.Position >= from && i < len(sizes[tag]) && l.Size != sizes[tag][i] {
					t.Errorf("%s layer %d: size %d, docker history %d", tag, l.Position, l.Size, sizes[tag][i])
				}
			}
		}
		return &r
	}
	w := get("waste:1")
	if w.Waste.Bytes != wasteBytes || w.Waste.Entries != 3 {
		t.Errorf("waste:1: waste %d bytes in %d files, want %d in 3: %+v", w.Waste.Bytes, w.Waste.Entries, wasteBytes, w.Waste.Groups)
	}
	n := len(w.Layers)
	want := map[string]int64{"/big": 5_120_000, "/over": 2_048_000, "/keep": 2}
	for _, p := range w.Waste.Paths {
		if want[p.Path] != p.Bytes {
			t.Errorf("waste:1: %s: %d bytes, want %d", p.Path, p.Bytes, want[p.Path])
		}
		if p.Path == "/big" && (p.Kind != inspect.DeadDeleted || p.Layer != n-3 || p.By != n-2) {
			t.Errorf("/big: %+v, want deleted in layer %d by %d", p, n-3, n-2)
		}
	}
	// overlay2 keeps rm -rf /d && mkdir /d as an opaque dir; the legacy
	// driver's root/ and the containerd store's snapshot (unpacked from
	// the layer's tar) as one deletion per entry: hidden or deleted, the
	// same bytes
	o := get("opaque:1")
	var gone int64
	for _, g := range o.Waste.Groups {
		if g.Kind == hiddenAs {
			gone += g.Bytes
		}
	}
	if gone != opaqueHidden || o.Waste.Bytes != opaqueHidden {
		t.Errorf("opaque:1: %s %d bytes, waste %d; want %d: %+v", hiddenAs, gone, o.Waste.Bytes, opaqueHidden, o.Waste.Groups)
	}
}
