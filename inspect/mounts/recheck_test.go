package mounts

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/mountinfo"
	"github.com/dlayer/dlayer/overlay2"
)

// noWait re-reads three times at once; before each re-read hook may
// change the store, and tables (nil: the first read's) are the tables
// re-read call sees.
func noWait(hook func(call int), tables func(call int) []mountinfo.Table) Recheck {
	call := 0
	rc := Recheck{Delays: make([]time.Duration, 3), Reopen: func(s *inspect.Store) (*inspect.Store, func(), error) {
		call++
		if hook != nil {
			hook(call)
		}
		return s.Reopen()
	}}
	if tables != nil {
		rc.Tables = func() ([]mountinfo.Table, error) { return tables(call + 1), nil }
	}
	return rc
}

// setState rewrites a container's config.v2.json as Docker does when it
// starts (running) or stops (exited) it.
func setState(t *testing.T, s *inspect.Store, id string, running bool) {
	t.Helper()
	p := s.Path("containers", id, "config.v2.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	st := c["State"].(map[string]any)
	st["Running"] = running
	st["StartedAt"] = "2024-01-01T00:00:00Z"
	if !running {
		st["FinishedAt"] = "2024-01-01T00:01:00Z"
	}
	if b, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mountOf is the mountinfo line Docker's mount of a container's rw layer
// gives.
func mountOf(t *testing.T, s *inspect.Store, id int, mountID string) string {
	d := overlay2.Home{Dir: s.Home()}.Dirs(mountID)
	return miLine(id, "4"+string(rune('0'+id%10)), d.Merged, "", overlayOpts(absLowers(t, s, mountID), d.Diff, d.Work))
}

// Every problem of TestMountsProblems, re-read three times with nothing
// changed meanwhile, is reported exactly as without a re-check.
func TestRecheckKeepsStableProblems(t *testing.T) {
	s, b := spacedStore(t)
	batch, fresh := b.Container("batch"), b.Container("fresh")
	lines := []string{mountOf(t, s, 50, batch.MountID), mountOf(t, s, 52, fresh.MountID),
		miLine(51, "41", "/mnt/inspect batch", "", overlayOpts(absLowers(t, s, batch.MountID),
			overlay2.Home{Dir: s.Home()}.Dirs(batch.MountID).Diff, overlay2.Home{Dir: s.Home()}.Dirs(batch.MountID).Work))}
	tb := []mountinfo.Table{table(t, "mi", "", lines...)}
	want, err := Map(s, Options{Tables: tb})
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	got, err := Map(s, Options{Tables: tb, Recheck: noWait(func(int) { reads++ }, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Findings) < 4 || !reflect.DeepEqual(got, want) || reads != 3 {
		t.Errorf("re-read %d times; with a re-check:\n%+v\nwithout:\n%+v", reads, got, want)
	}
}

// A problem the engine resolves between the first read and the re-reads
// is a changed_during_scan entry; one it turns into another problem is
// that problem; one that keeps flipping is changed (changing).
func TestRecheckChangedDuringScan(t *testing.T) {
	type tc struct {
		name string
		// lines of the first read's table; hook and tables as noWait's.
		lines  func(s *inspect.Store, b *fixtures.Built) []string
		hook   func(s *inspect.Store, b *fixtures.Built, call int)
		tables func(s *inspect.Store, b *fixtures.Built, call int) []string
		path   func(s *inspect.Store, b *fixtures.Built) string
		now    Settled   // "" when problems are reported
		seen   []Problem // the changed entry's, or the problems reported
		state  State     // of the mount at path afterwards ("" for none)
	}
	merged := func(name string) func(s *inspect.Store, b *fixtures.Built) string {
		return func(s *inspect.Store, b *fixtures.Built) string {
			return overlay2.Home{Dir: s.Home()}.Dirs(b.Container(name).MountID).Merged
		}
	}
	webAnd := func(names ...string) func(s *inspect.Store, b *fixtures.Built) []string {
		return func(s *inspect.Store, b *fixtures.Built) []string {
			out := []string{mountOf(t, s, 49, b.Container("web").MountID)}
			for i, n := range names {
				out = append(out, mountOf(t, s, 60+i, b.Container(n).MountID))
			}
			return out
		}
	}
	for _, c := range []tc{
		{name: "created container being started", lines: webAnd("fresh"), path: merged("fresh"),
			hook: func(s *inspect.Store, b *fixtures.Built, call int) {
				if call == 1 {
					setState(t, s, b.Container("fresh").ID, true)
				}
			}, now: SettledConsistent, seen: []Problem{Leaked}, state: StateCreated},
		{name: "running container being stopped", path: merged("web"),
			lines: func(*inspect.Store, *fixtures.Built) []string {
				return []string{"27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw"}
			},
			hook: func(s *inspect.Store, b *fixtures.Built, call int) {
				if call == 1 { // unmounted first, then the config says exited
					setState(t, s, b.Container("web").ID, false)
				}
			}, now: SettledConsistent, seen: []Problem{Missing}},
		{name: "stopped container's mount being unmounted", lines: webAnd("batch"), path: merged("batch"),
			tables: func(s *inspect.Store, b *fixtures.Built, call int) []string { return webAnd()(s, b) },
			now:    SettledConsistent, seen: []Problem{Leaked}, state: StateStopped},
		{name: "created container that stops with its mount left", lines: webAnd("fresh"), path: merged("fresh"),
			hook: func(s *inspect.Store, b *fixtures.Built, call int) {
				if call == 1 {
					setState(t, s, b.Container("fresh").ID, false)
				}
			}, seen: []Problem{Leaked}, state: StateStopped},
		{name: "mount that keeps coming and going", lines: webAnd("batch"), path: merged("batch"),
			tables: func(s *inspect.Store, b *fixtures.Built, call int) []string {
				if call%2 == 1 {
					return webAnd()(s, b)
				}
				return webAnd("batch")(s, b)
			}, now: SettledChanging, seen: []Problem{Leaked}, state: StateStopped},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, b := spacedStore(t)
			var hook func(int)
			if c.hook != nil {
				hook = func(call int) { c.hook(s, b, call) }
			}
			var tables func(int) []mountinfo.Table
			if c.tables != nil {
				tables = func(call int) []mountinfo.Table {
					return []mountinfo.Table{table(t, "mi", "", c.tables(s, b, call)...)}
				}
			}
			r, err := Map(s, Options{Tables: []mountinfo.Table{table(t, "mi", "", c.lines(s, b)...)}, Recheck: noWait(hook, tables)})
			if err != nil {
				t.Fatal(err)
			}
			p := c.path(s, b)
			var got []Problem
			for _, f := range r.Findings {
				if f.Path == p {
					got = append(got, Problem(f.Kind))
				}
			}
			if c.now == "" {
				if !slices.Equal(got, c.seen) || len(r.Changed) != 0 {
					t.Errorf("problems %v changed %+v; want %v", got, r.Changed, c.seen)
				}
			} else if len(got) != 0 || len(r.Changed) != 1 || r.Changed[0].Path != p || r.Changed[0].Now != c.now ||
				r.Changed[0].Kind != ChangedDuringScan || !slices.Equal(r.Changed[0].Seen, c.seen) || r.Changed[0].Message == "" {
				t.Errorf("problems %v changed %+v; want one %s entry seeing %v", got, r.Changed, c.now, c.seen)
			}
			if m := mountAt(r, p); c.state != "" && (m == nil || m.State != c.state || (c.now != "" && len(m.Problems) != 0)) {
				t.Errorf("mount at %s: %+v", p, m)
			}
		})
	}
}
