package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/report"
)

func TestLayersCLI(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	app := b.Image("demo/app:2")
	l1 := app.Layers[0]
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"by tag", []string{"--root", r, "layers", "demo/app:2"}, 0, "Image demo/app:2 (" + app.ID.Encoded()[:12] + "): 4 layers", ""},
		{"base row", []string{"--root", r, "layers", "demo/app:2"}, 0,
			"1     7.78kB   2        " + l1.DiffID.Encoded()[:12] + "   " + l1.ChainID.Encoded()[:12] + "   " + l1.CacheID[:12] + "   l/" + l1.Link + "   ok       ADD file:", ""},
		{"empty entry", []string{"--root", r, "layers", "demo/app:2"}, 0, "\n-     0B                                                                                                     CMD [\"/app/bin/app\"]\n", ""},
		{"by prefix", []string{"--root", r, "layers", app.ID.Encoded()[:6]}, 0, "COPY file:", ""},
		{"latest implied", []string{"--root", r, "layers", "demo/base"}, 0, "Image demo/base:1, demo/base:latest", ""},
		{"no-trunc", []string{"--root", r, "layers", "--no-trunc", "demo/app:2"}, 0, string(l1.ChainID) + "   " + l1.CacheID + "   ", ""},
		{"unknown", []string{"--root", r, "layers", "demo/nope:1"}, 2, "", "no image \"demo/nope:1\""},
		{"no argument", []string{"--root", r, "layers"}, 2, "", "exactly one IMAGE"},
		{"two arguments", []string{"--root", r, "layers", "a", "b"}, 2, "", "exactly one IMAGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
	out, errOut, code := runCLI("--root", r, "--format", "json", "layers", "demo/app:2")
	var doc report.LayersDoc
	if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("json: exit %d\n%s\n%s", code, out, errOut)
	}
	if doc.Image.ID != app.ID || doc.Image.Size != app.Size || len(doc.Layers) != 4 || len(doc.History) != 9 || len(doc.Findings) != 0 {
		t.Fatalf("json: %+v", doc)
	}
	for i, l := range doc.Layers {
		bl := app.Layers[i]
		n := 2
		if i == 3 {
			n = 1 // the COPY layer is demo/app:2's own
		}
		if l.ChainID != bl.ChainID || l.CacheID != bl.CacheID || l.Link != bl.Link || l.Size != bl.Size || l.CreatedBy != bl.CreatedBy ||
			l.ImageCount != n || len(l.Images) != n || l.Shared != (n == 2) || l.DiffDir != filepath.Join(r, "overlay2", bl.CacheID, "diff") {
			t.Errorf("layer %d: %+v\nbuilt %+v", i+1, l, bl)
		}
	}
	for _, k := range []string{"image", "layers", "history", "findings", "position", "diff_id", "chain_id", "cache_id", "dir", "diff_dir",
		"link", "size", "created", "created_by", "problems", "images", "image_count", "shared", "containers", "layer", "empty_layer"} {
		if !strings.Contains(out, `"`+k+`"`) {
			t.Errorf("json has no %q", k)
		}
	}
}

// TestLayersCLIDamage: a layer dir gone is a finding on stderr; every layer
// is still printed, the damaged one with its problem; exit 0.
func TestLayersCLIDamage(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	ls := b.Image("demo/app:2").Layers
	dir := filepath.Join(b.Root, "overlay2", ls[1].CacheID)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI("--root", b.Root, "layers", "demo/app:2")
	if code != 0 || !strings.Contains(errOut, "dlayer: layer_dir_missing: "+dir+": ") ||
		!strings.Contains(out, "layer_dir_missing   RUN mkdir -p /app && echo v1") || strings.Count(out, "   ok   ") != 3 {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}
