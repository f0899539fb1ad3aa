package main

import (
	"encoding/json"
	"github.com/dlayer/dlayer/fixtures/clitest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"golang.org/x/sys/unix"
)

// ownedStore is a small store whose entries all belong to the user
// running the tests, so that it is clean even when built without root
// (the fixture builder can chown only as root).
func ownedStore() fixtures.Store {
	u, g := os.Getuid(), os.Getgid()
	e := func(p string, typ fixtures.EntryType, data string) fixtures.Entry {
		return fixtures.Entry{Path: p, Type: typ, Data: data, UID: u, GID: g}
	}
	return fixtures.Store{
		Images: []fixtures.Image{
			{Tags: []string{"cli/base:1", "cli/base:latest"}, Cmd: []string{"sh"}, Layers: []fixtures.Layer{
				{Entries: []fixtures.Entry{e("/etc", fixtures.Dir, ""), e("/etc/passwd", fixtures.File, "root:x:0:0::/root:/bin/sh\n"),
					e("/etc/gone", fixtures.File, "x\n")}},
				{Entries: []fixtures.Entry{e("/etc", fixtures.Dir, ""), e("/etc/gone", fixtures.Whiteout, ""), e("/app", fixtures.Dir, ""),
					e("/app/x", fixtures.File, "x\n")}},
			}},
			{Tags: []string{"cli/app:2"}, Parent: "cli/base:1", Layers: []fixtures.Layer{
				{Entries: []fixtures.Entry{e("/app", fixtures.Dir, ""), e("/app/y", fixtures.File, "y\n")}},
			}},
		},
		Containers: []fixtures.Container{{Name: "web", Image: "cli/app:2", State: fixtures.StateRunning, Pid: 42}},
	}
}

// tamperedStore is ownedStore with a setuid bit added to a file of its
// base layer.
func tamperedStore(t *testing.T) (*fixtures.Built, string) {
	b := fixtures.MustBuild(t, ownedStore(), fixtures.Options{})
	l := b.Image("cli/base:1").Layers[0]
	p := filepath.Join(b.Root, "overlay2", l.CacheID, "diff", "etc/passwd")
	if err := unix.Chmod(p, 0o4644); err != nil {
		t.Fatal(err)
	}
	return b, l.ChainID.String()
}

func TestVerifyCLI(t *testing.T) {
	engine.NeedRoot(t, verifyNeedsRoot)
	clean := fixtures.MustBuild(t, ownedStore(), fixtures.Options{}).Root
	bad, chain := tamperedStore(t)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string // substrings
		empty    bool   // stdout must be empty
	}{
		{"clean", []string{"--root", clean, "verify"}, 0, "no findings", "", false},
		{"clean quick", []string{"--root", clean, "verify", "--quick"}, 0, "metadata only", "", false},
		{"clean quiet", []string{"--root", clean, "verify", "-q"}, 0, "", "", true},
		{"findings", []string{"--root", bad.Root, "verify"}, 1, "mode_mismatch   layer " + chain[7:19] + "   /etc/passwd   0644       4644", "", false},
		{"findings quiet", []string{"--root", bad.Root, "verify", "--quiet"}, 1, "mode_mismatch", "", false},
		{"quick misses tree changes", []string{"--root", bad.Root, "verify", "--quick"}, 0, "no findings", "", false},
		{"json quiet", []string{"--root", bad.Root, "--format", "json", "verify", "-q"}, 1, `"kind": "mode_mismatch"`, "", false},
		{"missing root", []string{"--root", clean + "/nope", "verify"}, 2, "", "nope", true},
		{"argument", []string{"--root", clean, "verify", "web"}, 2, "", "no arguments", true},
		{"prom under root", []string{"--root", clean, "verify", "--prom", clean + "/image/x.prom"}, 2, "", "refusing to write under the data root", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) || (tc.empty && out != "") {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
	if _, err := os.Stat(clean + "/image/x.prom"); err == nil {
		t.Error("--prom under the root was written")
	}
	if quiet, _, _ := runCLI("--root", bad.Root, "verify", "--quiet"); strings.Contains(quiet, "dlayer verify") {
		t.Errorf("--quiet printed the summary:\n%s", quiet)
	}
}

func TestVerifyCLIJSON(t *testing.T) {
	engine.NeedRoot(t, verifyNeedsRoot)
	bad, chain := tamperedStore(t)
	out, _, code := runCLI("--root", bad.Root, "--format", "json", "verify")
	var r struct {
		Mode    string
		Stats   map[string]int64
		Summary struct {
			Findings int
			ByKind   map[string]int `json:"by_kind"`
		}
		Findings []map[string]any
	}
	if code != 1 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if r.Mode != "content" || r.Stats["layers_hashed"] != 3 || r.Summary.Findings != 1 || r.Summary.ByKind["mode_mismatch"] != 1 {
		t.Errorf("%+v", r)
	}
	f := r.Findings[0]
	for k, want := range map[string]any{"kind": "mode_mismatch", "check": "tree", "docker_detects": false, "object_type": "layer",
		"object": chain, "path": "/etc/passwd", "expected": "0644", "actual": "4644"} {
		if f[k] != want {
			t.Errorf("%s = %v, want %v", k, f[k], want)
		}
	}
	aff := f["affects"].(map[string]any)
	if len(aff["images"].([]any)) != 3 || len(aff["containers"].([]any)) != 1 {
		t.Errorf("affects %v: want the three tags and the container", aff)
	}
}

func TestVerifyProm(t *testing.T) {
	engine.NeedRoot(t, verifyNeedsRoot)
	bad, _ := tamperedStore(t)
	file := filepath.Join(t.TempDir(), "verify.prom")
	if _, errOut, code := runCLI("--root", bad.Root, "verify", "-q", "--prom", file); code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fams := clitest.ParseProm(t, file)
	scan := map[string]string{"scan": "verify"}
	for name, want := range map[string]float64{"dlayer_scan_success": 1, "dlayer_verify_layers_checked": 3,
		"dlayer_verify_layers_hashed": 3, "dlayer_verify_images_checked": 2, "dlayer_verify_containers_checked": 1, "dlayer_verify_complete": 1} {
		if got := clitest.GaugeValue(fams, name, scan); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := clitest.GaugeValue(fams, "dlayer_verify_findings", map[string]string{"kind": "mode_mismatch", "check": "tree", "scan": "verify"}); got != 1 {
		t.Errorf("findings{mode_mismatch} = %v", got)
	}
	if got := clitest.GaugeValue(fams, "dlayer_verify_findings", map[string]string{"kind": "content_mismatch"}); got != 0 {
		t.Errorf("findings{content_mismatch} = %v, want an explicit 0", got)
	}
	last := clitest.GaugeValue(fams, "dlayer_scan_last_success_timestamp_seconds", scan)
	if last <= 0 || clitest.GaugeValue(fams, "dlayer_verify_hashed_bytes", scan) <= 0 {
		t.Fatalf("last success %v", last)
	}
	if fams["dlayer_verify_bytes_hashed"] != nil || fams["dlayer_verify_quick"] != nil {
		t.Error("the names before issue 17 are still written")
	}
	// A run that cannot complete says so and keeps the last success.
	if _, _, code := runCLI("--root", bad.Root+"/gone", "verify", "--prom", file); code != 2 {
		t.Fatalf("exit %d", code)
	}
	fams = clitest.ParseProm(t, file)
	if clitest.GaugeValue(fams, "dlayer_scan_success", scan) != 0 || clitest.GaugeValue(fams, "dlayer_scan_last_success_timestamp_seconds", scan) != last {
		t.Errorf("failed run: success %v, last success %v (was %v)", clitest.GaugeValue(fams, "dlayer_scan_success", scan),
			clitest.GaugeValue(fams, "dlayer_scan_last_success_timestamp_seconds", scan), last)
	}
	if fams["dlayer_verify_findings"] != nil {
		t.Error("a run that could not complete exports findings")
	}
	if ents, _ := os.ReadDir(filepath.Dir(file)); len(ents) != 1 {
		t.Errorf("temp files left: %v", ents)
	}
}
