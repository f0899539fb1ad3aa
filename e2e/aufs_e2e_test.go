package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
)

// TestAUFSE2E: no kernel here has aufs, so the aufs data root is the twin
// of a real engine's store, laid out as Docker's aufs driver would have
// (fixtures.AUFSTwin: layer tars rebuilt from the engine's tar-split and
// checked against their DiffIDs, extracted with .wh. files kept; upper
// dirs converted). Every assertion made on overlay2 must hold on the twin
// and on a root holding both drivers.
func TestAUFSE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	want, graph := e2eScenario(t, e)
	df, err := e.SystemDF()
	if err != nil {
		t.Fatal(err)
	}
	root := e.Root()
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	twin := filepath.Join(t.TempDir(), "aufs-root")
	if _, err := fixtures.AUFSTwin(root, twin, fixtures.TwinOptions{}); err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(t.TempDir(), "mixed-root")
	if out, err := exec.Command("cp", "-a", root, mixed).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	if _, err := fixtures.AUFSTwin(root, mixed, fixtures.TwinOptions{Suffix: "-aufs"}); err != nil {
		t.Fatal(err)
	}

	t.Run("twin", func(t *testing.T) {
		checkAll(t, e2eView{root: twin, origRoot: root, daemon: "off", aufs: true}, want, graph)
		r := duJSON(t, twin)
		if r.Driver != "aufs" || len(r.Findings) != 0 || len(r.Orphans) != 0 {
			t.Errorf("du on the twin: driver %s, findings %+v, orphans %+v", r.Driver, r.Findings, r.Orphans)
		}
		checkDF(t, r, df, "")
		checkDUTotals(t, r)
		wantClean(t, twin)
		out, _, code := runCLI("--root", twin, "ps")
		if code != 0 || strings.Count(out, " aufs ") != len(e2eContainers) {
			t.Errorf("ps on the twin: exit %d\n%s", code, out)
		}
	})
	t.Run("twin tampered", func(t *testing.T) { aufsTampers(t, twin) })
	t.Run("mixed", func(t *testing.T) {
		checkAll(t, e2eView{root: mixed, origRoot: root, daemon: "off"}, want, graph)
		checkAll(t, e2eView{root: mixed, origRoot: root, daemon: "off", aufs: true, suffix: "-aufs"}, want, graph)
		for _, driver := range []string{"overlay2", "aufs"} {
			out, errOut, code := runCLI("--root", mixed, "--driver", driver, "--format", "json", "du")
			r := decodeDU(t, out, errOut, code)
			other := map[string]string{"overlay2": "aufs", "aufs": "overlay2"}[driver]
			suffix := map[string]string{"overlay2": "", "aufs": "-aufs"}[driver]
			checkDF(t, r, df, suffix)
			checkDUTotals(t, r)
			if r.Driver != driver || !slices.Equal(r.OtherDrivers, []string{other}) || len(r.Findings) != 0 || len(r.Orphans) != 0 {
				t.Errorf("du --driver %s: driver %s, others %v, findings %+v, orphans %+v", driver, r.Driver, r.OtherDrivers, r.Findings, r.Orphans)
			}
			inactive := 0
			for _, d := range r.InactiveDriver {
				if d.Name == other || strings.HasPrefix(d.Name, "containers/") {
					inactive++
				}
			}
			if inactive != 1+len(e2eContainers) {
				t.Errorf("du --driver %s: inactive %+v, want %s/ and %d container dirs", driver, r.InactiveDriver, other, len(e2eContainers))
			}
		}
		out, errOut, code := runCLI("--root", mixed, "--format", "json", "verify")
		var v verifyJSON
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil || len(v.Findings) != 0 || !slices.Equal(v.Drivers, []string{"overlay2", "aufs"}) ||
			v.Stats.Containers != 2*len(e2eContainers) {
			t.Errorf("verify on the mixed root: exit %d %s\n%s", code, errOut, out)
		}
	})
}

// aufsTampers changes copies of the twin the ways that matter on aufs and
// checks verify names each.
func aufsTampers(t *testing.T, twin string) {
	s, err := inspect.Open(twin, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	_, layers := e2eImageLayers(t, s, "e2e:1")
	top := layers[len(layers)-1]
	cases := []struct {
		name, kind, path string
		do               func(t *testing.T, root string) error
	}{
		{"byte changed", "content_mismatch", "/data/layer4", func(t *testing.T, root string) error {
			rewriteKeepTime(t, filepath.Join(root, "aufs/diff", top.cacheID, "data/layer4"), "fivE\n")
			return nil
		}},
		{"whiteout file added", "whiteout_extra", "/data/.wh.a", func(t *testing.T, root string) error {
			return os.WriteFile(filepath.Join(root, "aufs/diff", top.cacheID, "data/.wh.a"), nil, 0o444)
		}},
		{"layers file emptied", "lower_mismatch", filepath.Join("aufs/layers", top.cacheID), func(t *testing.T, root string) error {
			return os.WriteFile(filepath.Join(root, "aufs/layers", top.cacheID), nil, 0o644)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "copy")
			if out, err := exec.Command("cp", "-a", twin, cp).CombinedOutput(); err != nil {
				t.Fatalf("cp -a: %v\n%s", err, out)
			}
			if err := tc.do(t, cp); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := runCLI("--root", cp, "--format", "json", "verify")
			var v verifyJSON
			if code != 1 || json.Unmarshal([]byte(out), &v) != nil {
				t.Fatalf("exit %d (want 1): %s\n%s", code, errOut, out)
			}
			path := tc.path
			if !strings.HasPrefix(path, "/") {
				path = filepath.Join(cp, path)
			}
			found := false
			for _, f := range v.Findings {
				if string(f.Kind) == tc.kind && f.Path == path && f.Object == top.chain.String() {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s at %s on %s; got %+v", tc.kind, path, top.chain, v.Findings)
			}
		})
	}
}
