package mounts

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/mountinfo"
)

// ChangedDuringScan is the kind of a Changed entry: a problem of the first
// read that the re-reads did not confirm, because the engine was creating,
// starting, stopping or removing the container meanwhile. Information,
// not a problem: `dlayer mounts` exits 0 for it.
const ChangedDuringScan Info = "changed_during_scan"

// Info is the kind of an entry that is neither a problem nor a warning.
type Info string

// String returns the kind as written in JSON.
func (i Info) String() string { return string(i) }

// Recheck says how problems are re-read before they are reported. A mount
// looks leaked, and a running container unmounted, for the moment Docker
// takes to start or stop it: the config says created while the mount is
// already made, or running while it is already gone. So each re-read
// opens the store afresh (nothing of the first read's memoized records),
// reads the mount tables again and maps them again.
//
// A problem is reported as before when every re-read gives it again, the
// same. Otherwise it changed: once two re-reads in a row agree (it
// settled) with no problem there, or when it was still changing when the
// re-reads ran out, it is a Changed entry; if it settled into another
// problem (say, a container that stopped with its mount still there),
// that problem is reported, as the last re-read saw it.
type Recheck struct {
	// Delays are the pauses before each re-read; none: no re-check.
	Delays []time.Duration
	// Reopen opens the fresh store of each re-read and returns what
	// releases it; nil is (*inspect.Store).Reopen.
	Reopen func(*inspect.Store) (*inspect.Store, func(), error)
	// Tables reads the mount tables again; nil re-uses Options.Tables (a
	// copied mountinfo file does not change).
	Tables func() ([]mountinfo.Table, error)
}

// DefaultRecheck is what the CLI uses: up to three re-reads, after 200,
// 600 and 1200 ms (2 s in all, spent only when there are problems, and cut
// short once every changed problem has settled).
func DefaultRecheck() Recheck {
	return Recheck{Delays: []time.Duration{200 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond}}
}

// Settled is what the re-reads found where a problem changed.
type Settled string

// What a changed problem settled into.
const (
	SettledConsistent Settled = "consistent" // no problem there now (the mount or the container went, or the container runs)
	SettledChanging   Settled = "changing"   // still changing when the re-reads ran out
	// SettledStarting: a created container's mount whose containerd task
	// exists: docker start is under way (Options.ProcRoot).
	SettledStarting Settled = "starting"
)

// String returns the state as written in JSON.
func (s Settled) String() string { return string(s) }

// Changed is a place the first read found problems at that the re-reads
// did not confirm.
type Changed struct {
	// Kind is ChangedDuringScan.
	Kind Info `json:"kind"`
	// Path is the findings' path: a mount point, a running container's
	// merged dir, or an upper dir.
	Path string `json:"path"`
	// Seen are the kinds of the first read's findings there, sorted.
	Seen []Problem `json:"seen"`
	// Now is what the re-reads found.
	Now Settled `json:"now"`
	// Message says it in words.
	Message string `json:"message"`
}

// look is what one read gives at one path.
type look struct {
	sig   string
	finds []inspect.Finding
}

// lookAt collects r's findings by path.
func lookAt(r *Report) map[string]look {
	out := map[string]look{}
	for _, f := range r.Findings {
		l := out[f.Path]
		l.finds = append(l.finds, f)
		out[f.Path] = l
	}
	for p, l := range out {
		lines := make([]string, len(l.finds))
		for i, f := range l.finds {
			lines[i] = f.Kind.String() + "\x00" + f.Message
		}
		slices.Sort(lines)
		l.sig = strings.Join(lines, "\n")
		out[p] = l
	}
	return out
}

// recheck re-reads the store and the tables and keeps in r only the
// problems every re-read confirms; the others become r.Changed, or are
// replaced by what they settled into.
func recheck(r *Report, s *inspect.Store, opt Options) {
	rc := opt.Recheck
	reopen := rc.Reopen
	if reopen == nil {
		reopen = (*inspect.Store).Reopen
	}
	first := lookAt(r)
	paths := make([]string, 0, len(first))
	for p := range first {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	reads := map[string][]look{}
	last := r
	for i, d := range rc.Delays {
		time.Sleep(d)
		tables := opt.Tables
		if rc.Tables != nil {
			t, err := rc.Tables()
			if err != nil {
				break // the tables cannot be read again: report what was seen
			}
			tables = t
		}
		fresh, release, err := reopen(s)
		if err != nil {
			break
		}
		again, err := mapOnce(fresh, tables, opt.SysRoot, opt.ProcRoot)
		release()
		if err != nil {
			break
		}
		last = again
		now := lookAt(again)
		for _, p := range paths {
			reads[p] = append(reads[p], now[p])
		}
		if i > 0 && allSettled(paths, first, reads) {
			break
		}
	}
	var keep []inspect.Finding
	for _, p := range paths {
		rs := reads[p]
		if len(rs) == 0 || stable(first[p], rs) {
			keep = append(keep, first[p].finds...)
			continue
		}
		end := rs[len(rs)-1]
		settled := len(rs) >= 2 && end.sig == rs[len(rs)-2].sig
		switch {
		case settled && end.sig != "":
			keep = append(keep, end.finds...)
			replaceMount(r, last, p)
		case settled:
			r.Changed = append(r.Changed, changedAt(p, first[p], SettledConsistent, r, last, len(rs)))
			dropProblems(r, p, first[p])
		default:
			r.Changed = append(r.Changed, changedAt(p, first[p], SettledChanging, r, last, len(rs)))
			dropProblems(r, p, first[p])
		}
	}
	// the findings keep the first read's order
	order := map[string]int{}
	for i, f := range r.Findings {
		if _, ok := order[f.Path]; !ok {
			order[f.Path] = i
		}
	}
	slices.SortStableFunc(keep, func(a, b inspect.Finding) int { return order[a.Path] - order[b.Path] })
	r.Findings = keep
}

// stable says whether every re-read gave the first read's problems.
func stable(first look, rs []look) bool {
	for _, l := range rs {
		if l.sig != first.sig {
			return false
		}
	}
	return true
}

// allSettled says whether every path changed and its last two re-reads
// agree.
func allSettled(paths []string, first map[string]look, reads map[string][]look) bool {
	for _, p := range paths {
		rs := reads[p]
		n := len(rs)
		if n < 2 || stable(first[p], rs) || rs[n-1].sig != rs[n-2].sig {
			return false
		}
	}
	return true
}

// changedAt describes a path whose problems the re-reads did not confirm.
// firstRead and last are the first read and the last re-read; n is how
// many re-reads there were.
func changedAt(p string, first look, now Settled, firstRead, last *Report, n int) Changed {
	var seen []Problem
	for _, f := range first.finds {
		seen = append(seen, Problem(f.Kind))
	}
	slices.Sort(seen)
	seen = slices.Compact(seen)
	names := make([]string, len(seen))
	for i, k := range seen {
		names[i] = k.String()
	}
	missing := slices.Contains(seen, Missing)
	then := "its config said running, but it was not mounted"
	if !missing {
		then = describe(firstRead, p, false)
	}
	what := fmt.Sprintf("the first read saw %s (%s)", strings.Join(names, ", "), then)
	var msg string
	if now == SettledChanging {
		msg = what + "; still changing after " + plural(n, "re-read") + ": not reported as a problem; run mounts again"
	} else {
		msg = what + "; re-read once it settled: " + describe(last, p, missing) + ": not a problem"
	}
	return Changed{Kind: ChangedDuringScan, Path: p, Seen: seen, Now: now, Message: msg}
}

// describe says what a read shows at path p; missing says the path is a
// running container's merged dir that was not mounted.
func describe(r *Report, p string, missing bool) string {
	for _, c := range r.Changed {
		if c.Path == p && c.Now == SettledStarting {
			return "docker start is under way (its containerd task exists)"
		}
	}
	for _, m := range r.Mounts {
		if m.MountPoint != p && m.UpperDir != p {
			continue
		}
		switch c := m.Container; {
		case c != nil && c.Name != "":
			return fmt.Sprintf("mounted, and container %s (%s) is %s", c.Name, shortID(c.ID), m.State)
		case c != nil:
			return fmt.Sprintf("mounted, and container %s has no config (being created or removed)", shortID(c.ID))
		}
		return fmt.Sprintf("mounted, and no container's record names layer %s (%s)", shortLayer(m.LayerID), m.State)
	}
	if missing {
		return "not mounted, and its container no longer runs"
	}
	return "no longer mounted"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// dropProblems takes the kinds of first's findings off the mounts they
// were about (at their mount point, or with p as upper dir).
func dropProblems(r *Report, p string, first look) {
	for i := range r.Mounts {
		m := &r.Mounts[i]
		if m.MountPoint != p && m.UpperDir != p {
			continue
		}
		for _, f := range first.finds {
			if Problem(f.Kind) == UpperShared && m.UpperDir != p {
				continue
			}
			m.Problems = slices.DeleteFunc(m.Problems, func(k Problem) bool { return k.String() == f.Kind.String() })
		}
		if len(m.Problems) == 0 {
			m.Problems = nil
		}
	}
}

// replaceMount puts the last re-read's view of the mount at p in r's place
// for it: it settled into other problems, which the row must show.
func replaceMount(r *Report, last *Report, p string) {
	for _, n := range last.Mounts {
		if n.MountPoint != p {
			continue
		}
		for i := range r.Mounts {
			if r.Mounts[i].MountPoint == p {
				r.Mounts[i] = n
			}
		}
	}
}
