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

func TestImagesCLI(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	base, app := b.Image("demo/base:1"), b.Image("demo/app:2")
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"header", []string{"--root", r, "images"}, 0, "IMAGE ID       TAGS                            CREATED", ""},
		{"app row", []string{"--root", r, "images"}, 0, app.ID.Encoded()[:12] + "   demo/app:2 ", ""},
		{"containers", []string{"--root", r, "images"}, 0, "2: fresh, web", ""},
		{"base tags", []string{"--root", r, "images"}, 0, "demo/base:1, demo/base:latest", ""},
		{"argument", []string{"--root", r, "images", "demo/app:2"}, 2, "", "no arguments"},
		{"missing root", []string{"--root", r + "/nope", "images"}, 2, "", r + "/nope"},
		{"bad format", []string{"--root", r, "--format", "yaml", "images"}, 2, "", "--format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
	out, errOut, code := runCLI("--root", r, "--format", "json", "images")
	var doc report.ImagesDocument
	if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Images) != 2 {
		t.Fatalf("json: exit %d\n%s\n%s", code, out, errOut)
	}
	// app was built after base: newest first
	rows := doc.Images
	a, bs := rows[0], rows[1]
	own := app.Layers[3].Size
	if a.ID != app.ID || a.Size != app.Size || a.SharedSize != base.Size || a.UniqueSize != own || a.LayerCount != 4 ||
		a.Containers != 2 || strings.Join(a.ContainerNames, ",") != "fresh,web" || a.Dangling || !a.Counted || a.Parent != base.ID {
		t.Errorf("demo/app:2: %+v", a)
	}
	if bs.ID != base.ID || bs.Size != base.Size || bs.UniqueSize != 0 || bs.Children != 1 || len(bs.ChainIDs) != 3 ||
		strings.Join(bs.Tags, ",") != "demo/base:1,demo/base:latest" || len(bs.Digests) != 0 || !a.Created.After(bs.Created) {
		t.Errorf("demo/base:1: %+v", bs)
	}
	for _, k := range []string{"id", "tags", "digests", "dangling", "counted", "children", "created", "layer_count", "chain_ids",
		"size", "shared_size", "unique_size", "containers", "container_names"} {
		if !strings.Contains(out, `"`+k+`"`) {
			t.Errorf("json has no %q", k)
		}
	}
}

// TestImagesCLIDamage: a missing layer dir is a finding on stderr and a
// note in the row; the exit code stays 0.
func TestImagesCLIDamage(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	app := b.Image("demo/app:2")
	dir := filepath.Join(b.Root, "overlay2", app.Layers[3].CacheID)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI("--root", b.Root, "images")
	if code != 0 || !strings.Contains(out, "4 (1 missing)") || !strings.Contains(out, "demo/base:1") ||
		!strings.Contains(errOut, "dlayer: layer_dir_missing: "+dir+": layer "+string(app.Layers[3].ChainID)) {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}
