package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect"
)

// stampLayout is how the timeline writes times (always UTC).
const stampLayout = "2006-01-02 15:04:05.000"

func stamp(t time.Time) string { return t.UTC().Format(stampLayout) }

// explainTimeline writes the phase table: where each phase begins and
// ends in the container's life, and how many changes fall in it.
func explainTimeline(p *printer, x *inspect.Explanation, opt ExplainOptions) error {
	tl := x.Timeline
	p.f("Timeline: when the writable layer changed (UTC; phase by %s)\n", tl.Source)
	bound := func(name string, t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return fmt.Sprintf("%-8s %s", name, stamp(t))
	}
	created := bound("created", tl.Created)
	started, finished := bound("started", tl.RunningFrom), bound("finished", tl.RunningUntil)
	runningUntil, afterFrom := finished, finished
	switch {
	case tl.RunningFrom.IsZero():
		started, runningUntil, afterFrom = "- (never started)", "-", "-"
	case tl.RunningUntil.IsZero():
		runningUntil, afterFrom = "- (still running)", "-"
	}
	rows := [][]string{
		{inspect.PhaseBeforeCreate.String(), "-", created},
		{inspect.PhaseAtCreate.String(), created, started},
		{inspect.PhaseRunning.String(), started, runningUntil},
		{inspect.PhaseAfterStop.String(), afterFrom, "-"},
	}
	if tl.Phases[inspect.PhaseUnknown] > 0 {
		rows = append(rows, []string{inspect.PhaseUnknown.String(), "?", "?"})
	}
	for i := range rows {
		rows[i] = append(rows[i], fmt.Sprint(tl.Phases[inspect.Phase(rows[i][0])]))
	}
	if err := table(p.w, []string{"phase", "from", "until", "entries"}, rows); err != nil {
		return err
	}
	if tl.CtimeUnreliable != "" {
		wrap(p, "  ", "ctime is unreliable here: "+tl.CtimeUnreliable+". Phases use mtime, which copy-up, docker cp and tar carry over from older files and which chmod and chown do not change.")
	}
	if tl.UnknownWhy != "" {
		wrap(p, "  ", fmt.Sprintf("%d %s unknown: %s.", tl.Phases[inspect.PhaseUnknown], plural(tl.Phases[inspect.PhaseUnknown], "entry is", "entries are"), tl.UnknownWhy))
	}
	if opt.Quiet {
		return nil
	}
	if !tl.StartedAt.IsZero() {
		wrap(p, "  ", fmt.Sprintf("started is StartedAt (%s) minus %v: Docker records StartedAt only after the process has started, so its first writes carry slightly earlier times.",
			stamp(tl.StartedAt), inspect.StartSlack))
	}
	wrap(p, "  ", "ctime is when an entry last changed (create, write, chmod, chown, copy-up); only the kernel sets it. mtime is carried over: copy-up keeps the lower file's, docker cp and tar keep the source's, chmod and chown leave it.")
	if !tl.StartedAt.IsZero() {
		wrap(p, "  ", "Docker keeps only the latest start and finish: if the container ran before (docker start, restart, a restart policy), changes of earlier runs count as at-create.")
	}
	return nil
}

// filterLine says which changes the list shows, or "" for all in tree order.
func filterLine(x *inspect.Explanation) string {
	f := x.Timeline.Filter
	var parts []string
	if f.SinceArg != "" || f.UntilArg != "" {
		s := "with " + x.Timeline.Source
		if f.SinceArg != "" {
			s += " since " + stamp(f.Since) + boundArg(f.SinceArg)
		}
		if f.UntilArg != "" {
			s += " until " + stamp(f.Until) + boundArg(f.UntilArg)
		}
		if f.KeptUnknown > 0 {
			s += fmt.Sprintf(" (%d of them of unknown time, which no bound leaves out)", f.KeptUnknown)
		}
		parts = append(parts, fmt.Sprintf("%d of %d entries %s", len(x.Changes), x.Timeline.Total, s))
	}
	if f.Sort == "time" {
		parts = append(parts, "sorted by "+x.Timeline.Source)
	}
	if len(parts) == 0 {
		return ""
	}
	return "showing " + strings.Join(parts, ", ")
}

// boundArg names a --since/--until value when it is not the time itself.
func boundArg(arg string) string {
	if _, err := time.Parse(time.RFC3339Nano, arg); err == nil {
		return ""
	}
	return " (" + Escape(arg) + ")"
}

// timesLine gives both times of a change, and says when mtime is the
// lower entry's (kept by copy-up).
func timesLine(c inspect.Change) string {
	m := "mtime " + stamp(c.Mtime)
	if c.Lower != nil && c.Lower.Mtime.Equal(c.Mtime) {
		m += " (the lower entry's)"
	}
	return m + ", ctime " + stamp(c.Ctime)
}
