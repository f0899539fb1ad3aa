package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/report"
	"github.com/opencontainers/go-digest"
)

// imageInspect is the part of GET /images/{id}/json (docker image inspect)
// that dlayer layers shows.
type imageInspect struct {
	ID     string `json:"Id"`
	RootFS struct {
		Layers []digest.Digest `json:"Layers"` // diff IDs, base first
	} `json:"RootFS"`
	GraphDriver struct {
		Name string            `json:"Name"`
		Data map[string]string `json:"Data"` // LowerDir (top to base), UpperDir, WorkDir, MergedDir
	} `json:"GraphDriver"`
}

func inspectImage(t *testing.T, e *engine.Engine, id string) imageInspect {
	t.Helper()
	var im imageInspect
	if err := e.API(http.MethodGet, "/images/"+id+"/json", nil, &im); err != nil {
		t.Fatal(err)
	}
	return im
}

// historyRow is one line of docker history --no-trunc --human=false
// --format '{{json .}}'.
type historyRow struct {
	CreatedBy string `json:"CreatedBy"`
	Size      string `json:"Size"` // bytes, with --human=false
	Comment   string `json:"Comment"`
}

// checkLayersE2E runs dlayer layers REF for image id and compares it with
// docker history --no-trunc (every entry, its created_by and size) and
// docker image inspect (RootFS.Layers = the diff IDs; GraphDriver.Data =
// the layer dirs), and each layer's images with the images whose
// RootFS.Layers start with the same layers.
func checkLayersE2E(t *testing.T, e *engine.Engine, ref, id string, inspected map[string]imageInspect) {
	t.Helper()
	out, errOut, code := runCLI("--root", e.Root(), "--format", "json", "layers", ref)
	var doc report.LayersDoc
	if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &doc) != nil {
		t.Errorf("dlayer layers %s: exit %d\n%s\n%s", ref, code, errOut, out)
		return
	}
	if string(doc.Image.ID) != id {
		t.Errorf("dlayer layers %s: image %s, want %s", ref, doc.Image.ID, id)
		return
	}
	hout, err := e.Docker("history", "--no-trunc", "--human=false", "--format", "{{json .}}", id)
	if err != nil {
		t.Fatal(err)
	}
	var hist []historyRow
	for _, line := range strings.Split(hout, "\n") {
		var h historyRow
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatalf("docker history line %q: %v", line, err)
		}
		hist = append([]historyRow{h}, hist...) // docker lists newest first
	}
	if len(doc.History) != len(hist) {
		t.Errorf("%s: %d history entries, docker history %d", ref, len(doc.History), len(hist))
		return
	}
	for i, h := range hist {
		got := doc.History[i]
		if got.CreatedBy != h.CreatedBy || strconv.FormatInt(got.Size, 10) != h.Size || got.Comment != h.Comment {
			t.Errorf("%s history %d: dlayer %q size %d comment %q; docker history %q size %s comment %q",
				ref, i, got.CreatedBy, got.Size, got.Comment, h.CreatedBy, h.Size, h.Comment)
		}
		if got.Layer > 0 && doc.Layers[got.Layer-1].CreatedBy != h.CreatedBy {
			t.Errorf("%s layer %d: created by %q, docker history %q", ref, got.Layer, doc.Layers[got.Layer-1].CreatedBy, h.CreatedBy)
		}
	}

	want := inspected[id]
	var diffs []digest.Digest
	var dirs []string
	var sum int64
	for _, l := range doc.Layers {
		diffs = append(diffs, l.DiffID)
		dirs = append([]string{l.DiffDir}, dirs...) // top first, as LowerDir
		sum += l.Size
		if len(l.Problems) != 0 || l.Link == "" || filepath.Base(l.Dir) != l.CacheID {
			t.Errorf("%s layer %d: %+v", ref, l.Position, l)
		}
		var holders []digest.Digest
		for other, oi := range inspected {
			if len(oi.RootFS.Layers) >= l.Position && reflect.DeepEqual(oi.RootFS.Layers[:l.Position], want.RootFS.Layers[:l.Position]) {
				holders = append(holders, digest.Digest(other))
			}
		}
		if !sameDigests(l.Images, holders) || l.ImageCount != len(holders) {
			t.Errorf("%s layer %d: images %v, the engine's images holding it %v", ref, l.Position, l.Images, holders)
		}
	}
	if !reflect.DeepEqual(diffs, want.RootFS.Layers) || sum != doc.Image.Size {
		t.Errorf("%s: diff IDs %v, docker inspect RootFS.Layers %v (size %d, layers add up to %d)", ref, diffs, want.RootFS.Layers, doc.Image.Size, sum)
	}
	g := want.GraphDriver.Data
	topDir := doc.Layers[len(doc.Layers)-1].Dir
	if want.GraphDriver.Name != "overlay2" || g["UpperDir"] != dirs[0] || g["LowerDir"] != strings.Join(dirs[1:], ":") ||
		g["WorkDir"] != filepath.Join(topDir, "work") || g["MergedDir"] != filepath.Join(topDir, "merged") {
		t.Errorf("%s: layer dirs %v, docker inspect GraphDriver %s %v", ref, dirs, want.GraphDriver.Name, g)
	}
	t.Logf("%s: %d history entries and %d layers equal docker history and docker image inspect", ref, len(hist), len(doc.Layers))
	if table, errOut, code := runCLI("--root", e.Root(), "layers", ref); code != 0 || errOut != "" || strings.Count(table, "\n") < len(hist)+3 {
		t.Errorf("dlayer layers %s table: exit %d %s\n%s", ref, code, errOut, table)
	}
}

func sameDigests(a, b []digest.Digest) bool {
	set := map[digest.Digest]bool{}
	for _, d := range a {
		set[d] = true
	}
	for _, d := range b {
		if !set[d] {
			return false
		}
	}
	return len(set) == len(b) && len(a) == len(b)
}
