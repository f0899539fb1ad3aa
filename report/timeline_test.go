package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/inspect"
)

func timelineSample(t *testing.T) *inspect.Explanation {
	t.Helper()
	created := time.Date(2026, 11, 27, 9, 51, 56, 184_000_000, time.UTC)
	started, finished := created.Add(2*time.Second), created.Add(4*time.Second)
	x := sample()
	x.Container.Created = created
	x.Container.State = inspect.State{Status: "exited", StartedAt: started, FinishedAt: finished}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	x.Changes = []inspect.Change{
		{Path: "/cp-before", Kind: "added", Type: "file", DockerDiff: "A", Mtime: old, Ctime: created.Add(time.Second)},
		{Path: "/etc/passwd", Kind: "modified", Type: "file", DockerDiff: "C", Changed: []string{"mode"}, Mtime: old, Ctime: started.Add(time.Second),
			Lower: &inspect.Meta{Type: "file", Mode: "0644", Mtime: old}, Mode: "0600"},
		{Path: "/cp-after", Kind: "added", Type: "file", DockerDiff: "A", Mtime: old, Ctime: finished.Add(time.Second)},
	}
	x.Timeline = inspect.NewTimeline(x.Container.Container)
	for i := range x.Changes {
		c := &x.Changes[i]
		c.Phase = x.Timeline.PhaseAt(x.Timeline.TimeOf(*c))
		x.Timeline.Phases[c.Phase]++
	}
	x.Timeline.Total = len(x.Changes)
	return x
}

func TestExplainTimelineText(t *testing.T) {
	x := timelineSample(t)
	var buf bytes.Buffer
	if err := Explain(&buf, x, ExplainOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Timeline: when the writable layer changed (UTC; phase by ctime)\n",
		"before-create   -                                  created  2026-11-27 09:51:56.184   0\n",
		"at-create       created  2026-11-27 09:51:56.184   started  2026-11-27 09:51:58.084   1\n",
		"running         started  2026-11-27 09:51:58.084   finished 2026-11-27 09:52:00.184   1\n",
		"after-stop      finished 2026-11-27 09:52:00.184   -                                  1\n",
		"started is StartedAt (2026-11-27 09:51:58.184) minus 100ms",
		"Docker keeps only the latest start and finish",
		"  A added            at-create     2026-11-27 09:51:57.184  /cp-before  (file, 0B)\n",
		"  C modified         running       2026-11-27 09:51:59.184  /etc/passwd  (file, 0B)\n",
		"      mtime 2020-01-01 00:00:00.000 (the lower entry's), ctime 2026-11-27 09:51:59.184\n",
		"  A added            after-stop    2026-11-27 09:52:01.184  /cp-after  (file, 0B)\n",
		"What the writable layer holds: 3 entries",
		"  In all: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "unreliable") || strings.Contains(out, "showing") {
		t.Errorf("no filter, ctime trusted: %s", out)
	}

	// ctime unreliable, filtered to the running phase: quiet still says why
	// mtime decides, and which entries are shown.
	x.Timeline.Source, x.Timeline.CtimeUnreliable = "mtime", "the init layer's files last changed later"
	since, _ := x.Timeline.ParseBound("started", time.Now())
	until, _ := x.Timeline.ParseBound("2026-11-27T09:52:00.184Z", time.Now())
	if err := inspect.SelectChanges(x, inspect.ChangeFilter{Since: since, SinceArg: "started", Until: until, UntilArg: "2026-11-27T09:52:00.184Z", Sort: "time"}); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := Explain(&buf, x, ExplainOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	out = buf.String()
	for _, want := range []string{
		"(UTC; phase by mtime)",
		"ctime is unreliable here: the init layer's files last changed later. Phases use mtime",
		"showing 0 of 3 entries with mtime since 2026-11-27 09:51:58.084 (started) until 2026-11-27 09:52:00.184, sorted by mtime\n  none\n",
		"In all (the whole layer): ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Docker keeps only") {
		t.Error("--quiet still explains")
	}
}

func TestExplainTimelineJSON(t *testing.T) {
	x := timelineSample(t)
	since, _ := x.Timeline.ParseBound("created", time.Now())
	if err := inspect.SelectChanges(x, inspect.ChangeFilter{Since: since, SinceArg: "created", Sort: "time"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ExplainJSON(&buf, Provenance{}, x); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Changes []struct {
			Path, Phase  string
			Mtime, Ctime time.Time
		} `json:"changes"`
		Timeline map[string]json.RawMessage `json:"timeline"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	var phases []string
	for _, c := range back.Changes {
		phases = append(phases, c.Path+"="+c.Phase)
		if c.Mtime.IsZero() || c.Ctime.IsZero() {
			t.Errorf("%s: times missing", c.Path)
		}
	}
	if strings.Join(phases, " ") != "/cp-before=at-create /etc/passwd=running /cp-after=after-stop" {
		t.Errorf("changes %v", phases)
	}
	tl := back.Timeline
	for k, want := range map[string]string{
		"created":       `"2026-11-27T09:51:56.184Z"`,
		"started_at":    `"2026-11-27T09:51:58.184Z"`,
		"finished_at":   `"2026-11-27T09:52:00.184Z"`,
		"running_from":  `"2026-11-27T09:51:58.084Z"`,
		"running_until": `"2026-11-27T09:52:00.184Z"`,
		"source":        `"ctime"`,
		"total":         `3`,
		"phases":        `{"after-stop":1,"at-create":1,"before-create":0,"running":1,"unknown":0}`,
		"filter":        `{"since":"2026-11-27T09:51:56.184Z","since_arg":"created","sort":"time"}`,
	} {
		var got bytes.Buffer
		if err := json.Compact(&got, tl[k]); err != nil || got.String() != want {
			t.Errorf("timeline.%s = %s, want %s", k, got.String(), want)
		}
	}
	if _, ok := tl["ctime_unreliable"]; ok {
		t.Error("ctime_unreliable present while ctime is trusted")
	}
}
