package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/storage"
	"github.com/docker/docker/api/types/system"
)

func TestCLIExitCodes(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"ps", []string{"--root", r, "ps"}, 0, "web", ""},
		{"ps alias", []string{"--root", r, "containers"}, 0, "batch", ""},
		{"explain by name", []string{"--root", r, "--mountinfo", "none", "--daemon", "off", "explain", "web"}, 0, "Whiteout: a deletion", ""},
		{"explain quiet", []string{"--root", r, "--mountinfo", "none", "explain", "--quiet", "/web"}, 0, "D whiteout", ""},
		{"diff", []string{"--root", r, "--mountinfo", "none", "diff", "web"}, 0, "D /bin/ls\n", ""},
		{"unknown container", []string{"--root", r, "explain", "nosuch"}, 2, "", "the store holds 3 containers"},
		{"missing root", []string{"--root", r + "/nope", "ps"}, 2, "", r + "/nope"},
		{"not a data root", []string{"--root", t.TempDir(), "ps"}, 2, "", "not a Docker data root"},
		{"bad format", []string{"--root", r, "--format", "xml", "ps"}, 2, "", "--format"},
		{"bad daemon", []string{"--root", r, "--daemon", "maybe", "ps"}, 2, "", "--daemon"},
		{"no argument", []string{"--root", r, "explain"}, 2, "", "exactly one CONTAINER"},
		{"unknown flag", []string{"--root", r, "--bogus", "ps"}, 2, "", "bogus"},
		{"unreadable mountinfo", []string{"--root", r, "--mountinfo", r + "/none", "--format", "json", "explain", "fresh"}, 0, "mountinfo_unreadable", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
}

func TestCLIJSON(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	out, _, code := runCLI("--root", b.Root, "--format", "json", "ps")
	var doc struct{ Containers []inspect.Container }
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Containers) != 3 {
		t.Fatalf("ps json: %d %s", code, out)
	}
	out, _, code = runCLI("--root", b.Root, "--format", "json", "--mountinfo", "none", "explain", "web")
	var x map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &x) != nil {
		t.Fatalf("explain json: %d %s", code, out)
	}
	for _, k := range []string{"container", "rw_layer", "layers", "changes", "findings", "diff", "summary"} {
		if _, ok := x[k]; !ok {
			t.Errorf("explain json lacks %q", k)
		}
	}
	rw := x["rw_layer"].(map[string]any)
	for _, k := range []string{"mount_id", "init_id", "upper_dir", "work_dir", "merged_dir", "lower_dirs", "mounted"} {
		if _, ok := rw[k]; !ok {
			t.Errorf("rw_layer lacks %q", k)
		}
	}
	ch := x["changes"].([]any)[0].(map[string]any)
	for _, k := range []string{"path", "kind", "type", "size", "origin", "docker_diff"} {
		if _, ok := ch[k]; !ok {
			t.Errorf("change lacks %q", k)
		}
	}
	l := x["layers"].([]any)[2].(map[string]any)
	for _, k := range []string{"position", "diff_id", "chain_id", "cache_id", "dir", "size", "created_by"} {
		if _, ok := l[k]; !ok {
			t.Errorf("layer lacks %q", k)
		}
	}
}

// fakeDocker is the daemon in tests.
type fakeDocker struct {
	root    string
	running bool
	graph   map[string]string
	err     error
}

func (f fakeDocker) Info(context.Context) (system.Info, error) {
	return system.Info{DockerRootDir: f.root}, f.err
}

func (f fakeDocker) ContainerInspect(context.Context, string) (container.InspectResponse, error) {
	r := container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{
		State: &container.State{Running: f.running}, GraphDriver: storage.DriverData{Data: f.graph}}}
	return r, nil
}

func (fakeDocker) Close() error { return nil }

func TestCrossCheck(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	s, _ := inspect.Open(b.Root, fixtures.Backends(), "")
	x, err := s.Explain("batch", inspect.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rw := x.RWLayer
	graph := map[string]string{"UpperDir": rw.UpperDir, "WorkDir": rw.WorkDir, "MergedDir": rw.MergedDir, "LowerDir": strings.Join(rw.LowerDirs, ":")}
	if f := crossCheckWith(context.Background(), fakeDocker{root: b.Root, graph: graph}, b.Root, x); len(f) != 0 {
		t.Errorf("agreeing daemon: %+v", f)
	}
	graph["UpperDir"] = "/elsewhere"
	f := crossCheckWith(context.Background(), fakeDocker{root: b.Root, running: true, graph: graph}, b.Root, x)
	if len(f) != 2 || f[0].Kind != "daemon_disagrees" {
		t.Errorf("disagreeing daemon: %+v", f)
	}
	if f := crossCheckWith(context.Background(), fakeDocker{root: "/var/lib/other", running: true}, b.Root, x); len(f) != 0 {
		t.Errorf("a daemon serving another root must not be asked: %+v", f)
	}
	if f := crossCheckWith(context.Background(), fakeDocker{err: errors.New("down")}, b.Root, x); len(f) != 0 {
		t.Errorf("an unreachable daemon is not a finding: %+v", f)
	}
}

// TestDriverFlagHelp: --driver's help lists every registered backend,
// the preferred one first, from the registry (no list kept by hand).
func TestDriverFlagHelp(t *testing.T) {
	reg := backends()
	got := driverUsage(reg)
	names := reg.Names()
	for _, n := range names {
		if !strings.Contains(got, n.String()) {
			t.Errorf("--driver help %q lacks %s", got, n)
		}
	}
	if !strings.Contains(got, names[0].String()+" when it holds several") || !strings.HasSuffix(got, " or "+names[len(names)-1].String()) {
		t.Errorf("--driver help %q", got)
	}
}
