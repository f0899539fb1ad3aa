package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
)

// verifyStateJSON is what the state test reads of verify's JSON.
type verifyStateJSON struct {
	Stats struct {
		Layers       int `json:"layers"`
		LayersHashed int `json:"layers_hashed"`
	} `json:"stats"`
	Findings []struct{ Kind, Object, Path string } `json:"findings"`
	State    *struct {
		LayersTrusted  int    `json:"layers_trusted"`
		LayersRehashed int    `json:"layers_rehashed"`
		Statement      string `json:"statement"`
	} `json:"state"`
}

func verifyWithState(t *testing.T, root, file string, wantCode int) verifyStateJSON {
	t.Helper()
	out, errOut, code := runCLI("--root", root, "--format", "json", "verify", "--settle", "0", "--state", file)
	var r verifyStateJSON
	if code != wantCode || json.Unmarshal([]byte(out), &r) != nil || r.State == nil {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, wantCode, out, errOut)
	}
	return r
}

// TestVerifyStateE2E: on a real engine's store, live, a second verify
// --state trusts every layer and re-hashes none, writing nothing under
// the root; once the engine is stopped, one byte changed in a lower
// layer's file of that store (its mtime put back) is caught by the next
// --state run, only that layer re-hashed.
func TestVerifyStateE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("vstate-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("vstate:1", "FROM vstate-base:1\nRUN mkdir -p /data && echo hello > /data/a\nRUN echo top > /top\n", nil); err != nil {
		t.Fatal(err)
	}
	root := e.Root()
	file := filepath.Join(t.TempDir(), "verify.state")
	sum := func() string {
		return treeSum(t, filepath.Join(root, "image")) + treeSum(t, filepath.Join(root, "overlay2"))
	}
	before := sum()
	first := verifyWithState(t, root, file, 0)
	if first.State.LayersTrusted != 0 || first.State.LayersRehashed != first.Stats.Layers || first.Stats.Layers < 3 {
		t.Fatalf("first run: %+v %+v", first.Stats, *first.State)
	}
	second := verifyWithState(t, root, file, 0)
	if second.State.LayersTrusted != second.Stats.Layers || second.Stats.LayersHashed != 0 || second.State.Statement == "" {
		t.Fatalf("unchanged live store: %+v %+v", second.Stats, *second.State)
	}
	if sum() != before {
		t.Fatal("verify --state changed the live image or layer store")
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	s, err := inspect.Open(root, fixtures.Backends(), "")
	must(t, err)
	_, layers := e2eImageLayers(t, s, "vstate:1")
	rewriteKeepTime(t, filepath.Join(root, "overlay2", layers[1].cacheID, "diff", "data", "a"), "hellO\n")
	r := verifyWithState(t, root, file, 1)
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Kind+" "+f.Object+" "+f.Path)
	}
	if !slices.Contains(got, "content_mismatch "+layers[1].chain.String()+" /data/a") {
		t.Errorf("the changed byte is not caught: %q", got)
	}
	if r.State.LayersRehashed != 1 || r.State.LayersTrusted != r.Stats.Layers-1 {
		t.Errorf("%+v: only the changed layer re-hashed", *r.State)
	}
}
