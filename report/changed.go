package report

import (
	"fmt"
	"strings"

	"github.com/dlayer/dlayer/inspect/mounts"
	"github.com/dlayer/dlayer/inspect/verify"
)

// verifyChanged writes the objects that changed during a verify scan: a
// table below the findings, headed so it is not read as more of them.
func verifyChanged(p *printer, r *verify.Report) {
	if len(r.Changed) == 0 || p.err != nil {
		return
	}
	p.f("Changed during the scan (a live engine at work; re-read once settled, they are not findings):\n")
	rows := make([][]string, 0, len(r.Changed))
	for _, c := range r.Changed {
		seen := make([]string, len(c.Seen))
		for i, k := range c.Seen {
			seen[i] = k.String()
		}
		rows = append(rows, []string{verifyObject(verify.Finding{ObjectType: c.ObjectType, Object: c.Object}), c.Now.String(),
			strings.Join(seen, ", "), verifyAffects(c.Affects)})
	}
	if err := table(p.w, []string{"object", "now", "first read saw", "affects"}, rows); err != nil {
		p.err = err
	}
}

// verifyChangedSummary is what the summary line adds for them.
func verifyChangedSummary(r *verify.Report) string {
	if len(r.Changed) == 0 {
		return ""
	}
	return fmt.Sprintf("; %d %s changed during the scan (not findings)", len(r.Changed), plural(len(r.Changed), "object", "objects"))
}

// mountsChanged writes the problems of the first read that the re-reads
// did not confirm, after the problems.
func mountsChanged(p *printer, r *mounts.Report) {
	for _, c := range r.Changed {
		p.f("  %s  %s\n", c.Kind, Escape(c.Path))
		wrap(p, "    ", Escape(c.Message))
	}
}

// mountsChangedSummary is what the summary line adds for them.
func mountsChangedSummary(r *mounts.Report) string {
	if len(r.Changed) == 0 {
		return ""
	}
	return fmt.Sprintf("; %d changed during the scan (not %s)", len(r.Changed), plural(len(r.Changed), "a problem", "problems"))
}

// verifyChangedJSON escapes the paths of changed objects as JSON findings'
// are.
func verifyChangedJSON(cs []verify.Changed) []verify.Changed {
	out := make([]verify.Changed, len(cs))
	for i, c := range cs {
		c.Path, _ = jsonString(c.Path)
		out[i] = c
	}
	return out
}

// mountsChangedJSON escapes their paths as the mounts' are.
func mountsChangedJSON(cs []mounts.Changed) []mounts.Changed {
	if cs == nil {
		return nil
	}
	out := make([]mounts.Changed, len(cs))
	for i, c := range cs {
		c.Path, _ = jsonString(c.Path)
		out[i] = c
	}
	return out
}
