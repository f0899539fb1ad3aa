package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/clitest"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/mounts"
)

// demoMountinfo writes a mountinfo file for the demo store: web mounted
// as Docker mounts it (absolute l/ lowers); with leak, batch's rw layer is
// also still mounted (Docker's relative form), and one line is malformed.
func demoMountinfo(t *testing.T, b *fixtures.Built, leak bool) string {
	t.Helper()
	home := filepath.Join(b.Root, "overlay2")
	lowers := func(id string) []string {
		raw, err := os.ReadFile(filepath.Join(home, id, "lower"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(raw), ":")
	}
	var abs []string
	web := b.Container("web").MountID
	for _, l := range lowers(web) {
		abs = append(abs, filepath.Join(home, l))
	}
	lines := []string{
		"27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
		fmt.Sprintf("49 27 0:39 / %s/%s/merged rw,relatime shared:2 - overlay overlay rw,lowerdir=%s,upperdir=%s/%s/diff,workdir=%s/%s/work",
			home, web, strings.Join(abs, ":"), home, web, home, web),
	}
	if leak {
		batch := b.Container("batch").MountID
		lines = append(lines,
			fmt.Sprintf("51 27 0:41 / %s/%s/merged rw,relatime shared:3 - overlay overlay rw,lowerdir=%s,upperdir=%s/diff,workdir=%s/work",
				home, batch, strings.Join(lowers(batch), ":"), batch, batch),
			"52 27 0:42 / /broken rw")
	}
	p := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMountsCLI(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	good, leaked := demoMountinfo(t, b, false), demoMountinfo(t, b, true)
	web := b.Container("web")
	tests := []struct {
		name       string
		args       []string
		code       int
		out, err   string
		notOut     string
		wantStderr bool
	}{
		{"healthy", []string{"--root", r, "--mountinfo", good, "mounts"}, 0,
			"web (" + web.ID[:12] + ")   running", "", "leaked_mount", false},
		{"healthy summary", []string{"--root", r, "--mountinfo", good, "mounts"}, 0,
			"1 mount (1 running) in 1 mount table: no problems", "", "", false},
		{"leaked", []string{"--root", r, "--mountinfo", leaked, "mounts"}, 1,
			"batch (" + b.Container("batch").ID[:12] + ")   stopped   4 (relative)", leaked + ":4: malformed: too few fields", "", true},
		{"long", []string{"--root", r, "--mountinfo", leaked, "mounts", "--long"}, 1,
			"  upper        " + filepath.Join(r, "overlay2", b.Container("batch").MountID, "diff"), "", "", true},
		{"none", []string{"--root", r, "--mountinfo", "none", "mounts"}, 2, "", "--mountinfo none reads none", "", true},
		{"missing file", []string{"--root", r, "--mountinfo", good + ".absent", "mounts"}, 2, "", good + ".absent", "", true},
		{"no such process", []string{"--root", r, "--mountinfo", "999999999", "mounts"}, 2, "", "process 999999999", "", true},
		{"argument", []string{"--root", r, "--mountinfo", good, "mounts", "web"}, 2, "", "takes no arguments", "", true},
		{"bad format", []string{"--root", r, "--mountinfo", good, "--format", "xml", "mounts"}, 2, "", "--format", "", true},
		{"not a store", []string{"--root", t.TempDir(), "--mountinfo", good, "mounts"}, 2, "", "not a Docker data root", "", true},
		{"help", []string{"mounts", "--help"}, 0, "EXIT CODES:\n      0  no problems\n      1  problems", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) ||
				(tt.notOut != "" && strings.Contains(out, tt.notOut)) || (errOut != "") != tt.wantStderr {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout with %q, stderr with %q", code, tt.code, out, errOut, tt.out, tt.err)
			}
		})
	}
}

func TestMountsCLIJSON(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	out, _, code := runCLI("--root", b.Root, "--mountinfo", demoMountinfo(t, b, true), "--format", "json", "mounts")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var r mounts.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Mounts) != 2 || len(r.Findings) != 1 || r.Findings[0].Kind.String() != mounts.Leaked.String() || len(r.Warnings) != 1 {
		t.Fatalf("got %+v", r)
	}
	for _, m := range r.Mounts {
		want := map[string]mounts.State{"web": mounts.StateRunning, "batch": mounts.StateStopped}[m.Container.Name]
		if m.State != want || len(m.LowerLayers) != len(m.StoreLowerLayers) || len(m.Seen) != 1 || m.Seen[0].Line < 2 {
			t.Errorf("%s: %+v", m.Container.Name, m)
		}
	}
}

// --mountinfo PID and auto read the live tables: the demo store is not
// mounted there, so its running container is reported missing (exit 1).
func TestMountsCLILive(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	ns, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatalf("this test reads the live /proc: %v", err)
	}
	for _, src := range []string{strconv.Itoa(os.Getpid()), "auto"} {
		out, errOut, code := runCLI("--root", b.Root, "--mountinfo", src, "--format", "json", "mounts")
		var r mounts.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%s: %v\n%s", src, err, errOut)
		}
		if code != 1 || len(r.Mounts) != 0 || len(r.Findings) != 1 || r.Findings[0].Kind.String() != mounts.Missing.String() {
			t.Errorf("--mountinfo %s: exit %d, %+v", src, code, r)
		}
		if len(r.Tables) == 0 || r.Tables[0].Namespace != ns || r.Tables[0].Mounts == 0 {
			t.Errorf("--mountinfo %s: tables %+v, want the first in %s", src, r.Tables, ns)
		}
		if src == "auto" && !strings.HasPrefix(r.Tables[0].Procs[0], "self[") {
			t.Errorf("auto: first table %+v", r.Tables[0])
		}
	}
}

func TestIsPID(t *testing.T) {
	for s, want := range map[string]bool{"1": true, "812": true, "0": false, "-1": false, "012": false, "12a": false, "": false, "./12": false} {
		if isPID(s) != want {
			t.Errorf("isPID(%q) = %v", s, !want)
		}
	}
}

// explain reads --mountinfo the same way: none means unknown (null), a
// file or PID is read, and a missing file is a finding, not a failure.
func TestExplainMountinfoSources(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	for _, tt := range []struct {
		src     string
		mounted string // "null", "true", "false"
		finding string
	}{
		{"none", "null", ""},
		{demoMountinfo(t, b, false), "true", ""},
		{strconv.Itoa(os.Getpid()), "false", "running_not_mounted"},
		{"auto", "false", "running_not_mounted"},
		{filepath.Join(t.TempDir(), "absent"), "null", "mountinfo_unreadable"},
	} {
		out, errOut, code := runCLI("--root", b.Root, "--daemon", "off", "--mountinfo", tt.src, "--format", "json", "explain", "web")
		var x struct {
			RWLayer struct {
				Mounted *bool `json:"mounted"`
			} `json:"rw_layer"`
			Findings []inspect.Finding `json:"findings"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &x) != nil {
			t.Fatalf("%s: exit %d %s", tt.src, code, errOut)
		}
		got := "null"
		if x.RWLayer.Mounted != nil {
			got = strconv.FormatBool(*x.RWLayer.Mounted)
		}
		var kinds []string
		for _, f := range x.Findings {
			kinds = append(kinds, f.Kind.String())
		}
		if got != tt.mounted || strings.Join(kinds, ",") != tt.finding {
			t.Errorf("--mountinfo %s: mounted %s findings %v; want %s %q", tt.src, got, kinds, tt.mounted, tt.finding)
		}
	}
}

// A mount of a layer the store no longer has (removed under churn while
// still mounted): its store lowers are unknown, null in JSON, and the
// document still follows its schema.
func TestMountsCLIRemovedLayer(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	home := filepath.Join(b.Root, "overlay2")
	gone := strings.Repeat("cd", 32)
	base := b.Image("demo/base:1").Layers[0]
	line := fmt.Sprintf("60 27 0:50 / %s/%s/merged rw,relatime - overlay overlay rw,lowerdir=%s/l/%s,upperdir=%s/%s/diff,workdir=%s/%s/work",
		home, gone, home, base.Link, home, gone, home, gone)
	p := filepath.Join(t.TempDir(), "mountinfo")
	must(t, os.WriteFile(p, []byte(line+"\n"), 0o644))
	out, errOut, code := runCLI("--root", b.Root, "--mountinfo", p, "--format", "json", "mounts")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := clitest.CheckDocument("docs/schema", []byte(out)); err != nil {
		t.Error(err)
	}
	var doc struct {
		Mounts []map[string]json.RawMessage `json:"mounts"`
	}
	must(t, json.Unmarshal([]byte(out), &doc))
	if len(doc.Mounts) != 1 || string(doc.Mounts[0]["store_lower_layers"]) != "null" || string(doc.Mounts[0]["state"]) != `"removed"` {
		t.Errorf("got %s", out)
	}
}
