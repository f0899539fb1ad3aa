package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// timelineCLIStore: an exited container "tl" with an mtime in every phase
// (the fixture is built now, so its ctimes are rewritten and mtime
// decides), a running one "up", and a created one "new".
func timelineCLIStore() fixtures.Store {
	c := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	s, f := c.Add(10*time.Second), c.Add(20*time.Second)
	old := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	e := func(p string, at time.Time) fixtures.Entry { return fixtures.Entry{Path: p, Data: "x\n", ModTime: at} }
	return fixtures.Store{
		Images: []fixtures.Image{{Tags: []string{"tl:1"}, Cmd: []string{"sh"}, Layers: []fixtures.Layer{{Entries: []fixtures.Entry{
			{Path: "/etc", Type: fixtures.Dir, ModTime: old}, {Path: "/etc/passwd", Data: "root:x:0:0::/:/bin/sh\n", ModTime: old},
		}}}}},
		Containers: []fixtures.Container{
			{Name: "tl", Image: "tl:1", State: fixtures.StateExited, Created: c, Started: s, Finished: f, Upper: []fixtures.Entry{
				{Path: "/etc/passwd", Data: "root:x:0:0::/:/bin/sh\n", Mode: 0o600, ModTime: old},
				e("/cp-before", c.Add(5*time.Second)), e("/run-b", s.Add(2*time.Second)), e("/run-a", s.Add(time.Second)),
				e("/cp-after", f.Add(time.Second)),
			}},
			{Name: "up", Image: "tl:1", State: fixtures.StateRunning, Pid: 7, Created: c, Started: s, Upper: []fixtures.Entry{e("/log", f)}},
			{Name: "new", Image: "tl:1", State: fixtures.StateCreated, Created: c},
		},
	}
}

func TestExplainTimelineCLI(t *testing.T) {
	b := fixtures.MustBuild(t, timelineCLIStore(), fixtures.Options{})
	base := []string{"--root", b.Root, "--mountinfo", "none", "--daemon", "off"}
	paths := func(args ...string) ([]string, *inspect.Explanation) {
		t.Helper()
		out, errOut, code := runCLI(append(append(append([]string{}, base...), "--format", "json", "explain"), args...)...)
		if code != 0 {
			t.Fatalf("explain %v: exit %d: %s", args, code, errOut)
		}
		var x inspect.Explanation
		if err := json.Unmarshal([]byte(out), &x); err != nil {
			t.Fatal(err)
		}
		var ps []string
		for _, c := range x.Changes {
			ps = append(ps, c.Path+"="+c.Phase.String())
		}
		return ps, &x
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		// /etc is copied up from the init layer, whose mtime is the create
		// time; /etc/passwd keeps the lower file's mtime, older than the
		// container: by mtime (ctimes are the fixture's build time) its time
		// is unknown, and every time bound keeps it.
		{[]string{"tl"}, "/cp-after=after-stop /cp-before=at-create /etc=at-create /etc/passwd=unknown /run-a=running /run-b=running"},
		{[]string{"--since", "started", "tl"}, "/cp-after=after-stop /etc/passwd=unknown /run-a=running /run-b=running"},
		{[]string{"--since", "started", "--until", "finished", "--sort", "time", "tl"}, "/etc/passwd=unknown /run-a=running /run-b=running"},
		{[]string{"--since", "created", "--until", "started", "tl"}, "/cp-before=at-create /etc=at-create /etc/passwd=unknown"},
		{[]string{"--until", "created", "--sort", "time", "tl"}, "/etc/passwd=unknown"},
		{[]string{"--since", "2025-03-01T10:00:11.5Z", "--sort", "time", "tl"}, "/etc/passwd=unknown /run-b=running /cp-after=after-stop"},
		{[]string{"--since", "10m", "tl"}, "/etc/passwd=unknown"}, // everything else is older than ten minutes
		{[]string{"--until", "10m", "--since", "finished", "tl"}, "/cp-after=after-stop /etc/passwd=unknown"},
		{[]string{"--since", "started", "up"}, "/log=running"},
	} {
		got, x := paths(tc.args...)
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.args, strings.Join(got, " "), tc.want)
		}
		all := 0
		for _, n := range x.Summary.Kinds {
			all += n
		}
		if x.Timeline.Source != "mtime" || x.Timeline.Total != all || all == 0 {
			t.Errorf("%v: timeline %+v, %d entries in the layer", tc.args, x.Timeline, all)
		}
		if len(x.Diff) != x.Summary.DockerDiff || len(x.Layers) != 3 {
			t.Errorf("%v: the filter must leave the stack and docker diff whole: %d layers, diff %v", tc.args, len(x.Layers), x.Diff)
		}
	}
	_, x := paths("--since", "started", "tl")
	f := x.Timeline.Filter
	if f.SinceArg != "started" || !f.Since.Equal(time.Date(2025, 3, 1, 10, 0, 10, 0, time.UTC).Add(-inspect.StartSlack)) || f.Sort != "path" || x.Timeline.Total != 6 {
		t.Errorf("filter %+v, total %d", f, x.Timeline.Total)
	}

	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--since", "bogus", "tl"}, `--since: invalid filter: "bogus": want an RFC 3339 time`},
		{[]string{"--until", "finished", "up"}, "has not stopped since its latest start"},
		{[]string{"--since", "started", "new"}, "never started"},
		{[]string{"--since", "finished", "--until", "started", "tl"}, "is not before until"},
		{[]string{"--sort", "size", "tl"}, `sort "size": want path or time`},
	} {
		_, errOut, code := runCLI(append(append(append([]string{}, base...), "explain"), tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.err) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.err)
		}
	}

	out, _, code := runCLI(append(append([]string{}, base...), "explain", "--since", "started", "--sort", "time", "tl")...)
	for _, want := range []string{
		"Timeline: when the writable layer changed (UTC; phase by mtime)",
		"ctime is unreliable here: the init layer's files last changed at",
		"showing 4 of 6 entries with mtime since 2025-03-01 10:00:09.900 (started) (1 of them of unknown time, which no bound leaves out), sorted by mtime\n",
		"1 entry is unknown: their mtime is older than the container",
		"  A added            running       2025-03-01 10:00:11.000  /run-a  (file, 2B)\n",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("text lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	list := out[strings.Index(out, "What the writable layer holds"):] // the summary names paths too
	if i, j := strings.Index(list, "/run-a"), strings.Index(list, "/cp-after"); i < 0 || j < i {
		t.Errorf("--sort time: /run-a must come before /cp-after:\n%s", out)
	}
}

// TestDemoTrustsCtime: make demo's store (fixtures.Options.WallClock)
// raises no ctime alarm: its containers were written when they say, so
// the timeline goes by ctime and web's changes fall in its running phase.
// The same store with recorded times long before the build is rightly
// found unreliable.
func TestDemoTrustsCtime(t *testing.T) {
	live := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{WallClock: true})
	for _, name := range []string{"web", "batch", "fresh"} {
		x := explainJSON(t, live.Root, "off", name)
		tl := x.Timeline
		if tl.Source != "ctime" || tl.CtimeUnreliable != "" || tl.Phases[inspect.PhaseUnknown] != 0 || tl.Phases[inspect.PhaseBeforeCreate] != 0 {
			t.Errorf("%s: timeline by %s (%q), phases %v: want ctime, trusted, nothing unknown or before create", name, tl.Source, tl.CtimeUnreliable, tl.Phases)
		}
		if name == "web" && tl.Phases[inspect.PhaseRunning] != len(x.Changes) {
			t.Errorf("web: phases %v, want all %d changes running", tl.Phases, len(x.Changes))
		}
	}
	old := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	if x := explainJSON(t, old.Root, "off", "web"); x.Timeline.Source != "mtime" || !strings.Contains(x.Timeline.CtimeUnreliable, "after the container was created") {
		t.Errorf("a store built long after its recorded times: timeline by %s (%q), want mtime, ctime unreliable", x.Timeline.Source, x.Timeline.CtimeUnreliable)
	}
}
