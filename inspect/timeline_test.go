package inspect

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
)

var (
	tC = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) // created
	tS = tC.Add(10 * time.Second)                     // started
	tF = tC.Add(20 * time.Second)                     // finished
)

func exited(created, started, finished time.Time) Container {
	return Container{Created: created, State: State{Status: "exited", StartedAt: started, FinishedAt: finished}}
}

func TestPhaseAt(t *testing.T) {
	ns := time.Nanosecond
	for _, tc := range []struct {
		name string
		c    Container
		at   time.Time
		want Phase
	}{
		{"before created", exited(tC, tS, tF), tC.Add(-ns), PhaseBeforeCreate},
		{"at created", exited(tC, tS, tF), tC, PhaseAtCreate},
		{"just outside the start slack", exited(tC, tS, tF), tS.Add(-StartSlack - ns), PhaseAtCreate},
		{"start slack begins", exited(tC, tS, tF), tS.Add(-StartSlack), PhaseRunning},
		{"inside the start slack", exited(tC, tS, tF), tS.Add(-StartSlack / 2), PhaseRunning},
		{"just before finished", exited(tC, tS, tF), tF.Add(-ns), PhaseRunning},
		{"at finished", exited(tC, tS, tF), tF, PhaseAfterStop},
		{"long after", exited(tC, tS, tF), tF.Add(24 * time.Hour), PhaseAfterStop},
		{"never started", exited(tC, time.Time{}, time.Time{}), tC.Add(time.Hour), PhaseAtCreate},
		{"running", exited(tC, tS, time.Time{}), tS.Add(time.Hour), PhaseRunning},
		// Restarted and running again: FinishedAt is the previous run's.
		{"restarted, previous run", exited(tC, tF, tS), tS, PhaseAtCreate},
		{"restarted, running", exited(tC, tF, tS), tF.Add(time.Hour), PhaseRunning},
		// docker run: started 50 ms after created; the slack stops at Created.
		{"docker run, before created", exited(tC, tC.Add(50*time.Millisecond), tF), tC.Add(-ns), PhaseBeforeCreate},
		{"docker run, at created", exited(tC, tC.Add(50*time.Millisecond), tF), tC, PhaseRunning},
	} {
		tl := NewTimeline(tc.c)
		if got := tl.PhaseAt(tc.at); got != tc.want {
			t.Errorf("%s: PhaseAt(%s) = %s, want %s (timeline %+v)", tc.name, tc.at.Format(time.RFC3339Nano), got, tc.want, tl)
		}
	}
	tl := NewTimeline(exited(tC, tF, tS))
	if !tl.RunningUntil.IsZero() || !tl.RunningFrom.Equal(tF.Add(-StartSlack)) {
		t.Errorf("restarted: running %v..%v", tl.RunningFrom, tl.RunningUntil)
	}
}

func TestCtimeVerdict(t *testing.T) {
	ms := time.Millisecond
	clean := ctimeEvidence{created: tC, initOldest: tC.Add(2 * ms), initNewest: tC.Add(5 * ms),
		configMtime: tF.Add(60 * ms), configCtime: tF.Add(64 * ms), oldestChange: tS}
	for _, tc := range []struct {
		name   string
		change func(*ctimeEvidence)
		want   string // substring of the reason; "" = trusted
	}{
		{"clean store", func(*ctimeEvidence) {}, ""},
		{"init layer within the slack", func(e *ctimeEvidence) { e.initNewest = tC.Add(CtimeSlack) }, ""},
		{"nothing to judge by", func(e *ctimeEvidence) { *e = ctimeEvidence{created: tC} }, ""},
		{"cp -a an hour later", func(e *ctimeEvidence) { e.initNewest = tC.Add(time.Hour) }, "1 hour after the container was created"},
		{"init layer before created", func(e *ctimeEvidence) { e.initOldest = tC.Add(-time.Minute) }, "before the container was created: the clock moved"},
		{"config rewritten", func(e *ctimeEvidence) { e.configCtime = e.configMtime.Add(CtimeSlack + ms) }, "config.v2.json changed"},
		{"upper entry before created", func(e *ctimeEvidence) { e.oldestChange = tC.Add(-time.Hour) }, "its upper dir did not exist then"},
	} {
		ev := clean
		tc.change(&ev)
		got := ctimeVerdict(ev)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: verdict %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseBound(t *testing.T) {
	now := tF.Add(time.Hour)
	tl := NewTimeline(exited(tC, tS, tF))
	for arg, want := range map[string]time.Time{
		"created":                        tC,
		"started":                        tS.Add(-StartSlack),
		"finished":                       tF,
		"2025-03-01T10:00:05Z":           tC.Add(5 * time.Second),
		"2025-03-01T11:00:05.5+01:00":    tC.Add(5500 * time.Millisecond),
		"2025-03-01T10:00:05.123456789Z": tC.Add(5*time.Second + 123456789),
		"10m":                            now.Add(-10 * time.Minute),
		"1h30m":                          now.Add(-90 * time.Minute),
	} {
		got, err := tl.ParseBound(arg, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseBound(%q) = %v, %v; want %v", arg, got, err, want)
		}
	}
	fresh := NewTimeline(exited(tC, time.Time{}, time.Time{}))
	running := NewTimeline(exited(tC, tS, time.Time{}))
	for _, tc := range []struct {
		tl   Timeline
		arg  string
		want string
	}{
		{tl, "yesterday", "want an RFC 3339 time"},
		{tl, "2025-03-01 10:00:00", "want an RFC 3339 time"},
		{tl, "2025-03-01T10:00:00", "want an RFC 3339 time"}, // no zone
		{tl, "-5m", "must be positive"},
		{tl, "0s", "must be positive"},
		{tl, "Started", "want an RFC 3339 time"},
		{fresh, "started", "never started"},
		{fresh, "finished", "has not stopped"},
		{running, "finished", "has not stopped since its latest start"},
	} {
		_, err := tc.tl.ParseBound(tc.arg, now)
		if !errors.Is(err, ErrBadFilter) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseBound(%q): %v, want %q", tc.arg, err, tc.want)
		}
	}
}

func TestSelectChanges(t *testing.T) {
	mk := func() *Explanation {
		tl := NewTimeline(exited(tC, tS, tF))
		x := &Explanation{Timeline: tl}
		for _, c := range []struct {
			path         string
			mtime, ctime time.Time
		}{
			{"/a", tC.Add(-time.Hour), tS.Add(time.Second)}, // copy-up during the run
			{"/b", tC.Add(time.Second), tC.Add(time.Second)},
			{"/c", tF, tF},
			{"/d", tS, tS},
			{"/e", tS.Add(-StartSlack), tS.Add(-StartSlack)},
		} {
			x.Changes = append(x.Changes, Change{Path: c.path, Mtime: c.mtime, Ctime: c.ctime})
		}
		return x
	}
	paths := func(x *Explanation) string {
		var out []string
		for _, c := range x.Changes {
			out = append(out, c.Path)
		}
		return strings.Join(out, " ")
	}
	run := func(x *Explanation, since, until, sort string) string {
		t.Helper()
		f := ChangeFilter{SinceArg: since, UntilArg: until, Sort: sort}
		var err error
		if since != "" {
			f.Since, err = x.Timeline.ParseBound(since, tF)
		}
		if err == nil && until != "" {
			f.Until, err = x.Timeline.ParseBound(until, tF)
		}
		if err == nil {
			err = SelectChanges(x, f)
		}
		if err != nil {
			t.Fatal(err)
		}
		if x.Timeline.Filter != f && sort != "" {
			t.Errorf("filter not recorded: %+v", x.Timeline.Filter)
		}
		return paths(x)
	}
	for _, tc := range []struct{ since, until, sort, want string }{
		{"", "", "", "/a /b /c /d /e"},
		{"started", "", "", "/a /c /d /e"},
		{"started", "finished", "", "/a /d /e"}, // since inclusive, until exclusive
		{"", "started", "", "/b"},
		{"finished", "", "", "/c"},
		{"created", "", "time", "/b /e /d /a /c"},
		{"", "", "time", "/b /e /d /a /c"},
	} {
		if got := run(mk(), tc.since, tc.until, tc.sort); got != tc.want {
			t.Errorf("since %q until %q sort %q: %s, want %s", tc.since, tc.until, tc.sort, got, tc.want)
		}
	}
	// With ctime unreliable, mtime decides: /a is an old copy-up.
	x := mk()
	x.Timeline.Source = "mtime"
	if got := run(x, "", "created", "time"); got != "/a" {
		t.Errorf("by mtime, before created: %s", got)
	}
	for _, f := range []ChangeFilter{{Sort: "size"}, {Since: tF, Until: tS}, {Since: tS, Until: tS}} {
		x := mk()
		if err := SelectChanges(x, f); !errors.Is(err, ErrBadFilter) || len(x.Changes) != 5 {
			t.Errorf("%+v: %v, %d changes left", f, err, len(x.Changes))
		}
	}
}

// timelineStore: one exited container whose upper entries carry mtimes in
// every phase, at the boundaries and inside the start slack.
func timelineStore() fixtures.Store {
	lower := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	e := func(p string, at time.Time) fixtures.Entry {
		return fixtures.Entry{Path: p, Data: p + "\n", ModTime: at}
	}
	return fixtures.Store{
		Images: []fixtures.Image{{Tags: []string{"tl:1"}, Cmd: []string{"sh"}, Layers: []fixtures.Layer{{Entries: []fixtures.Entry{
			{Path: "/data", Type: fixtures.Dir, ModTime: lower},
			{Path: "/data/old.txt", Data: "old\n", ModTime: lower},
		}}}}},
		Containers: []fixtures.Container{{Name: "tl", Image: "tl:1", State: fixtures.StateExited, Created: tC, Started: tS, Finished: tF,
			Upper: []fixtures.Entry{
				{Path: "/data/old.txt", Data: "old\n", Mode: 0o600, ModTime: lower}, // chmod: copy-up keeps mtime
				e("/edge-created", tC),
				e("/cp-before", tC.Add(5*time.Second)),
				e("/slack-out", tS.Add(-150*time.Millisecond)),
				e("/slack-in", tS.Add(-50*time.Millisecond)),
				e("/run", tC.Add(15*time.Second)),
				e("/edge-finished", tF),
				e("/cp-after", tF.Add(5*time.Second)),
			}}},
	}
}

func explainFixture(t *testing.T, st fixtures.Store, name string) (*Store, *fixtures.Built, *Explanation) {
	t.Helper()
	b := fixtures.MustBuild(t, st, fixtures.Options{})
	s, err := Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.Explain(name, ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s, b, x
}

// A fixture is built now, long after its container's recorded times: like
// a cp -a copy, its ctimes say nothing, and mtime decides.
func TestTimelineFixtureByMtime(t *testing.T) {
	_, _, x := explainFixture(t, timelineStore(), "tl")
	tl := x.Timeline
	if tl.Source != "mtime" || !strings.Contains(tl.CtimeUnreliable, "init layer") {
		t.Fatalf("source %q, reason %q", tl.Source, tl.CtimeUnreliable)
	}
	if !tl.Created.Equal(tC) || !tl.StartedAt.Equal(tS) || !tl.FinishedAt.Equal(tF) || !tl.RunningUntil.Equal(tF) {
		t.Errorf("times %+v", tl)
	}
	want := map[string]Phase{
		// mtime older than the container: carried over or set, so unknown
		"/data": PhaseUnknown, "/data/old.txt": PhaseUnknown,
		"/edge-created": PhaseAtCreate, "/cp-before": PhaseAtCreate, "/slack-out": PhaseAtCreate,
		"/slack-in": PhaseRunning, "/run": PhaseRunning,
		"/edge-finished": PhaseAfterStop, "/cp-after": PhaseAfterStop,
	}
	if len(x.Changes) != len(want) || tl.Total != len(want) {
		t.Errorf("%d changes (total %d), want %d", len(x.Changes), tl.Total, len(want))
	}
	for _, c := range x.Changes {
		if c.Phase != want[c.Path] {
			t.Errorf("%s: phase %q, want %q (mtime %s)", c.Path, c.Phase, want[c.Path], c.Mtime.Format(time.RFC3339Nano))
		}
	}
	if got := tl.Phases; got[PhaseBeforeCreate] != 0 || got[PhaseUnknown] != 2 || got[PhaseAtCreate] != 3 || got[PhaseRunning] != 2 || got[PhaseAfterStop] != 2 {
		t.Errorf("phase counts %v", got)
	}
	since, _ := tl.ParseBound("started", time.Now())
	if err := SelectChanges(x, ChangeFilter{Since: since, SinceArg: "started", Sort: "time"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range x.Changes {
		got = append(got, c.Path)
	}
	// the two of unknown time are kept: no bound can leave them out
	if strings.Join(got, " ") != "/data /data/old.txt /slack-in /run /edge-finished /cp-after" || x.Timeline.Total != 9 || x.Timeline.Filter.KeptUnknown != 2 {
		t.Errorf("--since started --sort time: %v", got)
	}
}

// Built now with the container's times set to now, the store's ctimes are
// trustworthy: ctime decides, whatever the mtimes say.
func TestTimelineFixtureByCtime(t *testing.T) {
	now := time.Now().UTC()
	st := timelineStore()
	c := &st.Containers[0]
	c.State, c.Created, c.Started, c.Finished = fixtures.StateRunning, now.Add(-3*time.Second), now.Add(-2*time.Second), time.Time{}
	s, b, x := explainFixture(t, st, "tl")
	if x.Timeline.Source != "ctime" || x.Timeline.CtimeUnreliable != "" {
		t.Fatalf("source %q: %s", x.Timeline.Source, x.Timeline.CtimeUnreliable)
	}
	for _, c := range x.Changes {
		if c.Phase != PhaseRunning {
			t.Errorf("%s: phase %s (ctime %s), want running: ctime decides, not mtime %s", c.Path, c.Phase, c.Ctime, c.Mtime)
		}
	}
	// The config file's mtime set back an hour: its ctime is now, as after
	// a copy or a touch over the store.
	cfg := b.Container("tl")
	p := s.Path("containers", cfg.ID, "config.v2.json")
	if err := os.Chtimes(p, now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	x, err := s.Explain("tl", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if x.Timeline.Source != "mtime" || !strings.Contains(x.Timeline.CtimeUnreliable, "config.v2.json changed") {
		t.Errorf("source %q: %s", x.Timeline.Source, x.Timeline.CtimeUnreliable)
	}
}

func TestTimelineNeverStarted(t *testing.T) {
	s, _ := demoStore(t)
	x, err := s.Explain("fresh", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tl := x.Timeline
	if tl.Total != 0 || len(tl.Phases) != len(Phases()) || tl.Phases[PhaseAtCreate] != 0 || !tl.RunningFrom.IsZero() || tl.Filter.Sort != "path" {
		t.Errorf("fresh: %+v", tl)
	}
	if _, err := tl.ParseBound("started", time.Now()); !errors.Is(err, ErrBadFilter) {
		t.Errorf("started on a created container: %v", err)
	}
}
