package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
)

var updateJSONKeys = flag.Bool("update-jsonkeys", false, "rewrite testdata/jsonkeys/*.txt from the current output")

// jsonKeys reduces a JSON document to its shape: one line per key path,
// sorted, with the JSON types seen there ("rw_layer.mounted null",
// "layers[].size number"). Array elements share the path P[] and their
// keys are the union over all elements; every array also yields the line
// P[] (alone when it is empty), so [] and null differ. The values of the
// objects at the paths in dynamic are collapsed to P{}: their keys are data
// (finding kinds, phases), not shape.
func jsonKeys(doc []byte, dynamic ...string) ([]string, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, err
	}
	types := map[string]map[string]bool{}
	add := func(p, typ string) {
		if types[p] == nil {
			types[p] = map[string]bool{}
		}
		if typ != "" {
			types[p][typ] = true
		}
	}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch v := v.(type) {
		case map[string]any:
			add(p, "object")
			for k, e := range v {
				if slices.Contains(dynamic, p) {
					k = "{}"
				}
				if p != "" {
					k = p + "." + k
				}
				walk(k, e)
			}
		case []any:
			add(p, "array")
			add(p+"[]", "")
			for _, e := range v {
				walk(p+"[]", e)
			}
		case string:
			add(p, "string")
		case float64:
			add(p, "number")
		case bool:
			add(p, "bool")
		case nil:
			add(p, "null")
		}
	}
	walk("", v)
	var lines []string
	for p, ts := range types {
		if p == "" {
			p = "."
		}
		lines = append(lines, strings.TrimSpace(p+" "+strings.Join(slices.Sorted(maps.Keys(ts)), "|")))
	}
	slices.Sort(lines)
	return lines, nil
}

func TestJSONKeysReduction(t *testing.T) {
	got, err := jsonKeys([]byte(`{"a":[{"b":1},{"c":null,"b":"x"}],"e":[],"n":null,"m":{"k1":1,"k2":2}}`), "m")
	want := []string{". object", "a array", "a[] object", "a[].b number|string", "a[].c null",
		"e array", "e[]", "m object", "m.{} number", "n null"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("jsonKeys = %q, %v\nwant %q", got, err, want)
	}
}

// The JSON contract of every command, as key paths, on the demo stores:
// testdata/jsonkeys/<case>.txt. Regenerate with
//
//	go test -run TestJSONKeys -update-jsonkeys .
func TestJSONKeys(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	aufs := filepath.Join(t.TempDir(), "root")
	if err := fixtures.ExtractAUFSDemo(aufs); err != nil {
		t.Fatal(err)
	}
	base := b.Image("demo/base:1").Layers[0]
	web := b.Container("web")
	mi := demoMountinfo(t, b, true) // web mounted, batch leaked, one bad line
	tampered, _ := tamperedStore(t) // a setuid bit added in a layer
	untidy := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	orphan := "overlay2/" + strings.Repeat("0f", 32) // a layer dir nothing owns
	writeSized(t, filepath.Join(untidy.Root, orphan, "diff", "a"), 1234)
	// Maps keyed by data: finding kinds and checks, change kinds, phases.
	dynamic := []string{"summary.by_kind", "summary.by_check", "summary.kinds", "timeline.phases"}
	// Not root, the builder cannot chown and work/work (mode 0) cannot be
	// read, so du and verify report findings there: other keys. And the
	// kernel hides trusted.* xattrs, so explain and verify on an overlay2
	// store list that gap (gaps[] has objects).
	rootOnly := map[string]bool{"du": true, "du-orphan": true, "verify": true, "aufs-verify": true,
		"explain-fresh": true, "explain-web": true, "explain-web-finding": true, "explain-web-mounted": true, "verify-findings": true}
	for _, tc := range []struct {
		name string
		root string // --root
		args []string
		code int
	}{
		{"ps", b.Root, []string{"ps"}, 0},
		{"images", b.Root, []string{"images"}, 0},
		{"layers", b.Root, []string{"layers", "demo/app:2"}, 0},
		{"explain-web", b.Root, []string{"explain", "web"}, 0},
		{"explain-web-mounted", b.Root, []string{"--mountinfo", mi, "explain", "web"}, 0},
		{"explain-web-finding", b.Root, []string{"--mountinfo", b.Root + "/absent", "explain", "web"}, 0},
		{"explain-fresh", b.Root, []string{"explain", "fresh"}, 0},
		{"diff-web", b.Root, []string{"diff", "web"}, 0},
		{"du", b.Root, []string{"du"}, 0},
		{"du-orphan", untidy.Root, []string{"du"}, 0},
		{"verify", b.Root, []string{"verify"}, 0},
		{"verify-findings", tampered.Root, []string{"verify"}, 1},
		{"mounts", b.Root, []string{"--mountinfo", mi, "mounts"}, 1},
		{"whose-layer-file", b.Root, []string{"whose", "overlay2/" + base.CacheID + "/diff/etc/passwd"}, 0},
		{"whose-layer", b.Root, []string{"whose", base.CacheID}, 0},
		{"whose-container", b.Root, []string{"whose", web.ID}, 0},
		{"whose-rw-layer", b.Root, []string{"whose", web.MountID}, 0},
		{"whose-orphan", untidy.Root, []string{"whose", orphan}, 0},
		{"aufs-ps", aufs, []string{"ps"}, 0},
		{"aufs-explain-web", aufs, []string{"explain", "web"}, 0},
		{"aufs-du", aufs, []string{"du"}, 0},
		{"aufs-verify", aufs, []string{"verify"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rootOnly[tc.name] {
				engine.NeedRoot(t, "without it the store's owners, unreadable work/work dirs and hidden trusted.* xattrs are findings and gaps, which change the keys")
			}
			// The later --mountinfo of a case wins over this default.
			args := append([]string{"--root", tc.root, "--format", "json", "--daemon", "off", "--mountinfo", "none"}, tc.args...)
			out, errOut, code := runCLI(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			keys, err := jsonKeys([]byte(out), dynamic...)
			if err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			got := strings.Join(keys, "\n") + "\n"
			golden := filepath.Join("testdata", "jsonkeys", tc.name+".txt")
			if *updateJSONKeys {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestJSONKeys -update-jsonkeys . to make it)", err)
			}
			if got != string(want) {
				t.Errorf("the JSON keys of %s changed (%s):\n%s", strings.Join(tc.args, " "), golden, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var d strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&d, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&d, "+ %s\n", l)
		}
	}
	return d.String()
}
