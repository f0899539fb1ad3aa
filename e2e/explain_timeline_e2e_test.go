package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
)

// The timeline on a real engine: a file copied in before the start, files
// written and chmod-ed by the running process, a file copied in after the
// stop; then the same store copied with cp -a, whose ctimes are the copy's.
func TestExplainTimelineE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("tl-base:1"); err != nil {
		t.Fatal(err)
	}
	// docker cp keeps the source's mtime: make it old.
	src := filepath.Join(t.TempDir(), "in.txt")
	old := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := os.WriteFile(src, []byte("copied\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(src, old, old); err != nil {
		t.Fatal(err)
	}
	docker := func(args ...string) string {
		t.Helper()
		out, err := e.Docker(args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	docker("create", "--network", "none", "--name", "tl", "tl-base:1", "sh", "-c",
		"sleep 2; echo w > /run.txt; chmod 600 /etc/passwd; mkdir /var/made && echo x > /var/made/f")
	docker("cp", src, "tl:/cp-before.txt")
	time.Sleep(time.Second) // well apart from the start, whatever StartSlack is
	docker("start", "tl")
	if out := docker("wait", "tl"); out != "0" {
		t.Fatalf("the script failed: exit %s", out)
	}
	docker("cp", src, "tl:/cp-after.txt")
	docker("run", "-d", "--network", "none", "--name", "up", "tl-base:1", "sh", "-c", "sleep 1; echo r > /up.txt; exec sleep 3600")
	for i := 0; ; i++ {
		if _, err := e.Docker("exec", "up", "test", "-f", "/up.txt"); err == nil {
			break
		} else if i == 100 {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var api struct {
		Created string
		State   struct{ StartedAt, FinishedAt string }
	}
	if err := e.API(http.MethodGet, "/containers/tl/json", nil, &api); err != nil {
		t.Fatal(err)
	}
	created, started, finished := tlParseTime(t, api.Created), tlParseTime(t, api.State.StartedAt), tlParseTime(t, api.State.FinishedAt)

	running := []string{"/etc", "/etc/passwd", "/run.txt", "/var", "/var/made", "/var/made/f"}
	live := func(t *testing.T, root string) {
		x := tlExplain(t, root, "tl")
		tl := x.Timeline
		if tl.Source != "ctime" || tl.CtimeUnreliable != "" {
			t.Fatalf("the engine's own store: source %s: %s", tl.Source, tl.CtimeUnreliable)
		}
		if !tl.Created.Equal(created) || !tl.StartedAt.Equal(started) || !tl.FinishedAt.Equal(finished) || !tl.RunningUntil.Equal(finished) {
			t.Errorf("timeline %+v; docker inspect: created %v started %v finished %v", tl, created, started, finished)
		}
		tlCheckPhases(t, x, map[inspect.Phase][]string{
			inspect.PhaseAtCreate: {"/cp-before.txt"}, inspect.PhaseRunning: running, inspect.PhaseAfterStop: {"/cp-after.txt"},
		})
		// Why mtime cannot decide: docker cp and copy-up carry older mtimes.
		for _, p := range []string{"/cp-before.txt", "/cp-after.txt", "/etc/passwd"} {
			if c := findChange(x, p); c == nil || !c.Mtime.Before(created) || c.Ctime.Before(created) {
				t.Errorf("%s: want an mtime from before the container and a ctime after it: %+v", p, c)
			}
		}
		if c := findChange(x, "/etc/passwd"); c == nil || c.Lower == nil || !c.Mtime.Equal(c.Lower.Mtime) || c.Mode != "0600" {
			t.Errorf("chmod copy-up keeps the lower mtime: %+v", c)
		}
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"--since", "started"}, append([]string{"/cp-after.txt"}, running...)},
			{[]string{"--since", "started", "--until", "finished"}, running},
			{[]string{"--until", "started"}, []string{"/cp-before.txt"}},
			{[]string{"--since", "finished"}, []string{"/cp-after.txt"}},
			{[]string{"--since", started.Format(time.RFC3339Nano)}, append([]string{"/cp-after.txt"}, running...)},
		} {
			x := tlExplain(t, root, append(tc.args, "tl")...)
			if got := tlPaths(x); strings.Join(got, " ") != strings.Join(tlSorted(tc.want), " ") {
				t.Errorf("%v: %q, want %q", tc.args, got, tlSorted(tc.want))
			}
		}
		x = tlExplain(t, root, "--sort", "time", "tl")
		if got := tlPaths(x); got[0] != "/cp-before.txt" || got[len(got)-1] != "/cp-after.txt" {
			t.Errorf("--sort time: %q", got)
		}
	}
	t.Run("live", func(t *testing.T) {
		live(t, e.Root())
		x := tlExplain(t, e.Root(), "--since", "started", "up")
		if got := tlPaths(x); strings.Join(got, " ") != "/up.txt" || x.Changes[0].Phase != inspect.PhaseRunning || !x.Timeline.RunningUntil.IsZero() {
			t.Errorf("running container: %q %+v", got, x.Timeline)
		}
		if _, errOut, code := runCLI("--root", e.Root(), "--daemon", "off", "--mountinfo", "none", "explain", "--until", "finished", "up"); code != exitUsage || !strings.Contains(errOut, "has not stopped") {
			t.Errorf("--until finished on a running container: exit %d %s", code, errOut)
		}
	})
	docker("rm", "-f", "up")
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Run("daemon stopped", func(t *testing.T) { live(t, e.Root()) })
	t.Run("cp -a copy", func(t *testing.T) {
		// The copy must come later than CtimeSlack after create, as any real
		// copy does; wait out the rest.
		time.Sleep(time.Until(created.Add(inspect.CtimeSlack + time.Second)))
		cp := filepath.Join(t.TempDir(), "copy")
		copied := time.Now()
		if out, err := exec.Command("cp", "-a", e.Root(), cp).CombinedOutput(); err != nil {
			t.Fatalf("cp -a: %v\n%s", err, out)
		}
		x := tlExplain(t, cp, "tl")
		tl := x.Timeline
		if tl.Source != "mtime" || !strings.Contains(tl.CtimeUnreliable, "init layer") {
			t.Fatalf("copy: source %s: %q", tl.Source, tl.CtimeUnreliable)
		}
		for _, c := range x.Changes {
			if c.Ctime.Before(copied.Add(-time.Second)) {
				t.Errorf("%s: ctime %v before the copy (%v)", c.Path, c.Ctime, copied)
			}
		}
		// By mtime: docker cp and copy-up keep older mtimes, which say
		// nothing of when those entries changed (unknown); /etc comes from
		// the init layer, made at create.
		tlCheckPhases(t, x, map[inspect.Phase][]string{
			inspect.PhaseUnknown:  {"/cp-before.txt", "/cp-after.txt", "/etc/passwd"},
			inspect.PhaseAtCreate: {"/etc"},
			inspect.PhaseRunning:  {"/run.txt", "/var", "/var/made", "/var/made/f"},
		})
		out, _, code := runCLI("--root", cp, "--daemon", "off", "--mountinfo", "none", "explain", "--quiet", "tl")
		if code != 0 || !strings.Contains(out, "phase by mtime") || !strings.Contains(out, "ctime is unreliable here") {
			t.Errorf("copy: the text must say mtime decides and why:\n%s", out)
		}
	})
}

func tlParseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkPhases wants exactly these paths in each phase (none elsewhere).
func tlCheckPhases(t *testing.T, x *inspect.Explanation, want map[inspect.Phase][]string) {
	t.Helper()
	got := map[inspect.Phase][]string{}
	for _, c := range x.Changes {
		got[c.Phase] = append(got[c.Phase], c.Path)
	}
	for _, ph := range inspect.Phases() {
		if strings.Join(tlSorted(got[ph]), " ") != strings.Join(tlSorted(want[ph]), " ") {
			t.Errorf("%s: %q, want %q", ph, tlSorted(got[ph]), tlSorted(want[ph]))
		}
		if x.Timeline.Phases[ph] != len(want[ph]) {
			t.Errorf("timeline.phases[%s] = %d, want %d", ph, x.Timeline.Phases[ph], len(want[ph]))
		}
	}
	if t.Failed() {
		for _, c := range x.Changes {
			t.Logf("%s %s mtime %s ctime %s", c.Phase, c.Path, c.Mtime.Format(time.RFC3339Nano), c.Ctime.Format(time.RFC3339Nano))
		}
	}
}

func tlPaths(x *inspect.Explanation) []string {
	var out []string
	for _, c := range x.Changes {
		out = append(out, c.Path)
	}
	return out
}

func tlSorted(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return out
}

// tlExplain runs explain --format json with args on a stopped-daemon view.
func tlExplain(t *testing.T, root string, args ...string) *inspect.Explanation {
	t.Helper()
	out, errOut, code := runCLI(append([]string{"--root", root, "--daemon", "off", "--mountinfo", "none", "--format", "json", "explain"}, args...)...)
	if code != 0 {
		t.Fatalf("explain %v: exit %d: %s", args, code, errOut)
	}
	var x inspect.Explanation
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("explain %v: %v", args, err)
	}
	return &x
}
