package inspect

import (
	"errors"
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// The timeline places every change of a writable layer in the container's
// life. What the times mean (checked on Docker 20.10, overlay2, kernel 6.18):
//   - Docker records Created, then creates the rw layer empty (and writes the
//     -init layer, once, within milliseconds): every upper-dir inode is born
//     after Created.
//   - ctime is set by the kernel on every change of an inode (create, write,
//     chmod, chown, rename, link, utimes, xattrs) and cannot be set from user
//     space: it is when the entry last changed. A copy-up is a new inode, so
//     its ctime is the copy-up time.
//   - mtime is carried over: copy-up keeps the lower file's, `docker cp` and
//     tar keep the source's, `touch -d` sets any; chmod and chown leave it.
//   - `cp -a`, rsync -a and tar keep mtimes but give every ctime the copy time.
//   - Docker sets StartedAt after the runtime has started the process, and
//     file times come from the kernel's coarse clock: the process's first
//     writes carry times 2–5 ms before StartedAt (measured), while a `docker
//     cp` immediately followed by `docker start` lands 200–240 ms before it.
//     The running phase therefore begins StartSlack before StartedAt.
//   - Docker keeps only the latest StartedAt and FinishedAt.

// Phase places a change in the container's life.
type Phase string

// String returns the phase as written in JSON.
func (p Phase) String() string { return string(p) }

// The phases of a change, in time order.
const (
	// PhaseBeforeCreate: the deciding time is older than the container.
	// Nothing in the upper dir is really older, so the time was carried
	// over (mtime of a copy-up, docker cp, tar) or the clock moved.
	PhaseBeforeCreate Phase = "before-create"
	// PhaseAtCreate: after Created, before the latest start (docker cp into
	// a created container; with restarts, also changes of earlier runs).
	PhaseAtCreate Phase = "at-create"
	// PhaseRunning: from the latest start until FinishedAt, or on while the
	// container runs.
	PhaseRunning Phase = "running"
	// PhaseAfterStop: after FinishedAt (docker cp into a stopped container).
	PhaseAfterStop Phase = "after-stop"
	// PhaseUnknown: what decides cannot place the change. When ctime is
	// unreliable (a copy) and mtime is older than the container, the
	// mtime was carried over (a copy-up keeps the lower file's, docker cp
	// and tar the source's) or set: it says nothing of when the entry
	// changed — a chmod at runtime of a copied-up file looks exactly so.
	// Timeline.UnknownWhy says why.
	PhaseUnknown Phase = "unknown"
)

// Phases lists the phases in time order, then unknown.
func Phases() []Phase {
	return []Phase{PhaseBeforeCreate, PhaseAtCreate, PhaseRunning, PhaseAfterStop, PhaseUnknown}
}

// StartSlack is how long before StartedAt the running phase begins.
const StartSlack = 100 * time.Millisecond

// CtimeSlack is how far the -init layer's ctimes may lie from Created (and
// config.v2.json's ctime from its mtime) before ctime counts as rewritten.
const CtimeSlack = 10 * time.Second

// Timeline says how an explanation's changes are placed in time.
type Timeline struct {
	// Created, StartedAt and FinishedAt are the container's times from
	// config.v2.json (zero, and omitted, when Docker left them unset).
	Created    time.Time `json:"created,omitzero"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// RunningFrom is where the running phase begins: StartedAt minus
	// StartSlack, not before Created; zero for a never-started container.
	RunningFrom time.Time `json:"running_from,omitzero"`
	// RunningUntil is where it ends: FinishedAt when it belongs to the
	// latest start; zero while the container runs (or its state is stale).
	RunningUntil time.Time `json:"running_until,omitzero"`
	// Source is the time that decides a change's phase: "ctime" or "mtime".
	Source string `json:"source"`
	// CtimeUnreliable says why ctime is not used; empty when it is.
	CtimeUnreliable string `json:"ctime_unreliable,omitempty"`
	// UnknownWhy says why some changes are in PhaseUnknown; empty when
	// none is.
	UnknownWhy string `json:"unknown_why,omitempty"`
	// Phases counts all changes by phase, before any filter.
	Phases map[Phase]int `json:"phases"`
	// Total is the number of changes before any filter.
	Total int `json:"total"`
	// Filter is what selected and ordered the changes.
	Filter ChangeFilter `json:"filter"`
}

// ChangeFilter selects changes by their deciding time and orders them.
type ChangeFilter struct {
	// Since (inclusive) and Until (exclusive) bound the deciding time; zero
	// means unbounded.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// SinceArg and UntilArg are the bounds as given ("started", "10m"…).
	SinceArg string `json:"since_arg,omitempty"`
	UntilArg string `json:"until_arg,omitempty"`
	// Sort is "path" (tree order, the default) or "time" (deciding time,
	// then tree order).
	Sort string `json:"sort"`
	// KeptUnknown counts the changes of PhaseUnknown a time bound kept:
	// their time is unknown, so no bound can leave them out.
	KeptUnknown int `json:"kept_unknown,omitempty"`
}

// TimeOf is the time that decides c's phase: ctime, or mtime when ctime
// is not reliable.
func (tl *Timeline) TimeOf(c Change) time.Time {
	if tl.Source == "mtime" {
		return c.Mtime
	}
	return c.Ctime
}

// PhaseAt places t in the container's life. Intervals are half-open:
// [Created, RunningFrom) is at-create, [RunningFrom, RunningUntil) running.
func (tl *Timeline) PhaseAt(t time.Time) Phase {
	switch {
	case t.Before(tl.Created):
		return PhaseBeforeCreate
	case tl.RunningFrom.IsZero() || t.Before(tl.RunningFrom):
		return PhaseAtCreate
	case tl.RunningUntil.IsZero() || t.Before(tl.RunningUntil):
		return PhaseRunning
	}
	return PhaseAfterStop
}

// NewTimeline derives the phase boundaries from a container's times.
// Docker writes unset times as "0001-01-01T00:00:00Z" (the zero time).
func NewTimeline(c Container) Timeline {
	tl := Timeline{Created: c.Created, StartedAt: c.State.StartedAt, FinishedAt: c.State.FinishedAt,
		Source: "ctime", Phases: map[Phase]int{}, Filter: ChangeFilter{Sort: "path"}}
	for _, ph := range Phases() {
		tl.Phases[ph] = 0
	}
	if tl.StartedAt.IsZero() {
		return tl
	}
	tl.RunningFrom = tl.StartedAt.Add(-StartSlack)
	if tl.RunningFrom.Before(tl.Created) {
		tl.RunningFrom = tl.Created
	}
	// FinishedAt older than StartedAt is the previous run's: the latest
	// run has not finished (or the daemon died before recording it).
	if !tl.FinishedAt.IsZero() && !tl.FinishedAt.Before(tl.StartedAt) {
		tl.RunningUntil = tl.FinishedAt
	}
	return tl
}

// ctimeEvidence is what decides whether ctimes still tell the history.
type ctimeEvidence struct {
	created time.Time
	// initOldest, initNewest: ctimes of the -init layer's diff dir and its
	// top-level entries (zero when there is no readable init layer).
	initOldest, initNewest time.Time
	// configMtime, configCtime: of config.v2.json (zero when unreadable).
	configMtime, configCtime time.Time
	// oldestChange: the oldest ctime in the upper dir (zero when empty).
	oldestChange time.Time
}

// ctimeVerdict returns why ctimes cannot be trusted, or "" when they can.
// The -init layer is the witness: Docker writes it once, right after it
// records Created, and never again. A later ctime there means the inodes
// were rewritten: a copy (cp -a, rsync, tar) or a chmod/chown over the
// store. Whether the upper dir's ctimes are far after FinishedAt says
// nothing: a docker cp into a stopped container does exactly that.
func ctimeVerdict(ev ctimeEvidence) string {
	const layout = "2006-01-02 15:04:05.000 UTC"
	switch {
	case !ev.initNewest.IsZero() && ev.initNewest.Sub(ev.created) > CtimeSlack:
		return fmt.Sprintf("the init layer's files last changed at %s, %s after the container was created; Docker writes them once, at create, so the store's ctimes were rewritten (a copy made with cp -a, rsync or tar, which keep mtimes but set ctimes to the copy time, or a chmod/chown over the store)",
			ev.initNewest.UTC().Format(layout), roundDur(ev.initNewest.Sub(ev.created)))
	case !ev.initOldest.IsZero() && ev.created.Sub(ev.initOldest) > CtimeSlack:
		return fmt.Sprintf("the init layer's files changed at %s, %s before the container was created: the clock moved", ev.initOldest.UTC().Format(layout), roundDur(ev.created.Sub(ev.initOldest)))
	case !ev.configMtime.IsZero() && ev.configCtime.Sub(ev.configMtime) > CtimeSlack:
		return fmt.Sprintf("config.v2.json changed (ctime %s) %s after it was last written (mtime); the daemon writes it in one go, so the store's ctimes were rewritten (a copy, or a chmod/chown over the store)",
			ev.configCtime.UTC().Format(layout), roundDur(ev.configCtime.Sub(ev.configMtime)))
	case !ev.oldestChange.IsZero() && ev.created.Sub(ev.oldestChange) > CtimeSlack:
		return fmt.Sprintf("an upper-dir entry changed at %s, before the container was created (its upper dir did not exist then): the clock moved", ev.oldestChange.UTC().Format(layout))
	}
	return ""
}

// roundDur says a duration as people say it: "320ms", "14s", "5 minutes",
// "3 hours", "6 days", "22 months", "2 years".
func roundDur(d time.Duration) string {
	const day = 24 * time.Hour
	n := func(v float64, unit string) string {
		k := int64(v + 0.5)
		if k == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", k, unit)
	}
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return n(d.Minutes(), "minute")
	case d < 2*day:
		return n(d.Hours(), "hour")
	case d < 60*day:
		return n(d.Hours()/24, "day")
	case d < 730*day:
		return n(d.Hours()/24/30.44, "month")
	}
	return n(d.Hours()/24/365.25, "year")
}

// timeline fills x.Timeline and every change's phase.
func (s *Store) timeline(x *Explanation) {
	tl := NewTimeline(x.Container.Container)
	ev := ctimeEvidence{created: tl.Created}
	for _, l := range x.Layers {
		if l.Role == RoleInit && l.Dir != "" {
			ev.initOldest, ev.initNewest = dirCtimes(s.fs, l.Dir)
		}
	}
	if st, err := s.fs.Lstat(x.Container.Path); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			ev.configMtime = st.ModTime()
			ev.configCtime = time.Unix(sys.Ctim.Sec, sys.Ctim.Nsec)
		}
	}
	for _, c := range x.Changes {
		if ev.oldestChange.IsZero() || c.Ctime.Before(ev.oldestChange) {
			ev.oldestChange = c.Ctime
		}
	}
	if why := ctimeVerdict(ev); why != "" {
		tl.Source, tl.CtimeUnreliable = "mtime", why
	}
	for i := range x.Changes {
		c := &x.Changes[i]
		c.Phase = tl.PhaseAt(tl.TimeOf(*c))
		if tl.Source == "mtime" && c.Phase == PhaseBeforeCreate {
			c.Phase = PhaseUnknown
			tl.UnknownWhy = "their mtime is older than the container, so it was carried over (a copy-up keeps the lower file's, docker cp and tar the source's) or set, " +
				"and says nothing of when they changed; ctime, which would, is unreliable here"
		}
		tl.Phases[c.Phase]++
	}
	tl.Total = len(x.Changes)
	x.Timeline = tl
}

// dirCtimes returns the oldest and newest ctime of dir and its entries
// (not below them); zero times when dir cannot be read.
func dirCtimes(o layerfs.Opener, dir string) (oldest, newest time.Time) {
	d, err := o.OpenDir(dir)
	if err != nil {
		return
	}
	defer d.Close()
	add := func(st layerfs.Stat) {
		t := st.ChangeTime()
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
		if t.After(newest) {
			newest = t
		}
	}
	if st, err := d.Self(); err == nil {
		add(st)
	}
	names, _ := d.Names()
	for _, n := range names {
		if st, ok, err := d.Lstat(n); err == nil && ok {
			add(st)
		}
	}
	return
}

// ErrBadFilter is returned for a --since, --until or --sort value dlayer cannot use.
var ErrBadFilter = errors.New("invalid filter")

// ParseBound turns a --since/--until value into a time: an RFC 3339 time,
// a duration before now ("10m", "1h30m"), or a keyword naming a phase
// boundary of the container: "created" (Created), "started" (RunningFrom:
// StartedAt minus StartSlack) or "finished" (FinishedAt of the latest run).
func (tl *Timeline) ParseBound(arg string, now time.Time) (time.Time, error) {
	switch arg {
	case "created":
		if tl.Created.IsZero() {
			return time.Time{}, fmt.Errorf("%w: %q: the container has no creation time", ErrBadFilter, arg)
		}
		return tl.Created, nil
	case "started":
		if tl.RunningFrom.IsZero() {
			return time.Time{}, fmt.Errorf("%w: %q: the container was never started", ErrBadFilter, arg)
		}
		return tl.RunningFrom, nil
	case "finished":
		if tl.RunningUntil.IsZero() {
			return time.Time{}, fmt.Errorf("%w: %q: the container has not stopped since its latest start", ErrBadFilter, arg)
		}
		return tl.RunningUntil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, arg); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(arg); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%w: %q: a duration before now must be positive", ErrBadFilter, arg)
		}
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%w: %q: want an RFC 3339 time (2026-11-27T09:52:00Z), a duration before now (10m, 1h30m) or created, started, finished", ErrBadFilter, arg)
}

// SelectChanges keeps the changes whose deciding time lies in
// [f.Since, f.Until) and orders them by f.Sort; it records f in
// x.Timeline.Filter. Summary and Diff still describe the whole layer.
func SelectChanges(x *Explanation, f ChangeFilter) error {
	if f.Sort == "" {
		f.Sort = "path"
	}
	if f.Sort != "path" && f.Sort != "time" {
		return fmt.Errorf("%w: sort %q: want path or time", ErrBadFilter, f.Sort)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return fmt.Errorf("%w: since %s is not before until %s", ErrBadFilter,
			f.Since.UTC().Format(time.RFC3339Nano), f.Until.UTC().Format(time.RFC3339Nano))
	}
	tl := &x.Timeline
	kept := make([]Change, 0, len(x.Changes))
	bounded := !f.Since.IsZero() || !f.Until.IsZero()
	for _, c := range x.Changes {
		t := tl.TimeOf(c)
		if c.Phase == PhaseUnknown && bounded {
			f.KeptUnknown++ // it may lie in the bounds: never dropped
		} else if (!f.Since.IsZero() && t.Before(f.Since)) || (!f.Until.IsZero() && !t.Before(f.Until)) {
			continue
		}
		kept = append(kept, c)
	}
	if f.Sort == "time" {
		sort.SliceStable(kept, func(i, j int) bool { return tl.TimeOf(kept[i]).Before(tl.TimeOf(kept[j])) })
	}
	x.Changes = kept
	tl.Filter = f
	return nil
}
