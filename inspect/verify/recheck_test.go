package verify

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

// noWait re-reads three times at once, through hook (nil: no change
// between reads).
func noWait(hook func(call int)) Recheck {
	call := 0
	return Recheck{Delays: make([]time.Duration, 3), Reopen: func(s *inspect.Store) (*inspect.Store, func(), error) {
		call++
		if hook != nil {
			hook(call)
		}
		return s.Reopen()
	}}
}

// A stable problem is reported exactly as without a re-check: every
// tamper, with the content checks and with --quick, gives the same
// findings, and nothing is said to have changed.
func TestRecheckKeepsStableFindings(t *testing.T) {
	form := forms(t)[0]
	for _, tc := range tampers {
		for _, quick := range []bool{false, true} {
			name := tc.name
			if quick {
				name += "/quick"
			}
			t.Run(name, func(t *testing.T) {
				if tc.root && os.Geteuid() != 0 {
					t.Skip("needs root (chown, security.capability)")
				}
				s := build(t, richStore(), form)
				tc.do(t, s)
				want := s.run(t, Options{Quick: quick})
				reopened := 0
				got := s.run(t, Options{Quick: quick, Recheck: noWait(func(int) { reopened++ })})
				if !reflect.DeepEqual(got.Findings, want.Findings) || len(got.Changed) != 0 {
					t.Errorf("with a re-check:\n%q\nchanged %+v\nwithout:\n%q", kinds(got.Findings), got.Changed, kinds(want.Findings))
					for i := range min(len(got.Findings), len(want.Findings)) {
						if !reflect.DeepEqual(got.Findings[i], want.Findings[i]) {
							t.Errorf("first difference:\n%+v\n%+v", got.Findings[i], want.Findings[i])
							break
						}
					}
				}
				if len(want.Findings) > 0 && reopened != 3 {
					t.Errorf("re-read %d times, want 3 (a stable problem is read again each time)", reopened)
				}
			})
		}
	}
}

// A clean store is not re-read at all.
func TestRecheckCleanStoreNotReread(t *testing.T) {
	s := build(t, richStore(), forms(t)[0])
	reopened := 0
	r := s.run(t, Options{Quick: true, Recheck: noWait(func(int) { reopened++ })})
	if len(r.Findings) != 0 || len(r.Changed) != 0 || reopened != 0 {
		t.Errorf("findings %q changed %+v, re-read %d times", kinds(r.Findings), r.Changed, reopened)
	}
}

// churnCase changes a clean rich store before the scan (what a live engine
// is half-way through; it may return what puts a file back) and in the
// hook before re-read call (what the engine does meanwhile).
type churnCase struct {
	name   string
	before func(t *testing.T, s store) (restore func())
	hook   func(t *testing.T, s store, call int, restore func())
	// now is what the object settles into; "" when it must be reported
	// as findings of these kinds.
	now   Settled
	seen  []Kind
	kinds []Kind
	obj   func(s store) string
}

func ctrObj(s store) string { return s.Containers[0].ID }

// saved copies a file aside, and returns what puts it back.
func saved(t *testing.T, p string) func() {
	t.Helper()
	b, err := os.ReadFile(p)
	mustDo(t, err)
	return func() { mustDo(t, os.WriteFile(p, b, 0o644)) }
}

// removeConfig removes the container's config.v2.json (Docker has made
// its dir but not yet written it) and returns what writes it back.
func removeConfig(t *testing.T, s store) func() {
	p := filepath.Join(s.Root, "containers", s.Containers[0].ID, "config.v2.json")
	restore := saved(t, p)
	mustDo(t, os.Remove(p))
	return restore
}

var churnCases = []churnCase{
	{name: "container removed during the scan", obj: ctrObj, now: SettledGone, seen: []Kind{KindContainerLayerMissing},
		before: func(t *testing.T, s store) func() {
			mustDo(t, os.RemoveAll(filepath.Join(s.Root, "overlay2", s.Containers[0].MountID)))
			return nil
		},
		hook: func(t *testing.T, s store, call int, _ func()) {
			if call == 1 {
				mustDo(t, os.RemoveAll(filepath.Join(s.Root, "containers", s.Containers[0].ID)))
				mustDo(t, os.RemoveAll(filepath.Join(s.Root, "image/overlay2/layerdb/mounts", s.Containers[0].ID)))
			}
		}},
	{name: "container created during the scan: config not yet written", obj: ctrObj, now: SettledConsistent,
		seen:   []Kind{KindContainerUnreadable},
		before: removeConfig,
		hook: func(t *testing.T, s store, call int, restore func()) {
			if call == 1 {
				restore()
			}
		}},
	{name: "layer created during the scan: short link not yet made", obj: layerObj(0), now: SettledConsistent,
		seen: []Kind{KindLinkBroken},
		before: func(t *testing.T, s store) func() {
			mustDo(t, os.Remove(filepath.Join(s.Root, "overlay2/l", s.layer(0).Link)))
			return nil
		},
		hook: func(t *testing.T, s store, call int, _ func()) {
			if call == 2 { // settles only at the second re-read
				mustDo(t, os.Symlink("../"+s.layer(0).CacheID+"/diff", filepath.Join(s.Root, "overlay2/l", s.layer(0).Link)))
			}
		}},
	{name: "settles into another problem", obj: ctrObj, kinds: []Kind{KindContainerLowerMismatch},
		before: removeConfig,
		hook: func(t *testing.T, s store, call int, restore func()) {
			if call == 1 {
				restore()
				mustDo(t, os.WriteFile(filepath.Join(s.Root, "overlay2", s.Containers[0].MountID, "lower"), []byte("l/NOPE"), 0o644))
			}
		}},
	{name: "keeps changing", obj: ctrObj, now: SettledChanging, seen: []Kind{KindContainerUnreadable},
		before: removeConfig,
		hook: func(t *testing.T, s store, call int, restore func()) {
			if call%2 == 1 {
				restore()
			} else {
				removeConfig(t, s)
			}
		}},
	{name: "image config being written: Docker's temp file", obj: func(store) string { return "" }, now: SettledGone,
		seen: []Kind{KindImagedbStray},
		before: func(t *testing.T, s store) func() {
			mustDo(t, os.WriteFile(filepath.Join(s.Root, "image/overlay2/imagedb/content/sha256/.tmp-"+s.Images[0].ID.Encoded()+"123"), []byte("{}"), 0o600))
			return nil
		},
		hook: func(t *testing.T, s store, call int, _ func()) {
			if call == 1 {
				mustDo(t, os.Remove(filepath.Join(s.Root, "image/overlay2/imagedb/content/sha256/.tmp-"+s.Images[0].ID.Encoded()+"123")))
			}
		}},
	{name: "image removed during a full verify", obj: func(s store) string { return s.layer(2).ChainID.String() }, now: SettledGone,
		seen: []Kind{KindContentMismatch, KindDiffIDMismatch, KindMtimeMismatch},
		before: func(t *testing.T, s store) func() {
			mustDo(t, os.WriteFile(s.diff(2, "top"), []byte("TOP\n"), 0o644))
			return nil
		},
		hook: func(t *testing.T, s store, call int, _ func()) {
			if call == 1 {
				mustDo(t, os.RemoveAll(filepath.Join(s.Root, "image/overlay2/layerdb/sha256", s.layer(2).ChainID.Encoded())))
			}
		}},
}

// An object that the engine changes between the scan and the re-reads is
// a changed_during_scan entry when it settles gone or consistent, or
// keeps changing; one that settles into another problem is reported with
// that problem.
func TestRecheckChangedDuringScan(t *testing.T) {
	form := forms(t)[0]
	for _, tc := range churnCases {
		t.Run(tc.name, func(t *testing.T) {
			s := build(t, richStore(), form)
			restore := tc.before(t, s)
			r := s.run(t, Options{Recheck: noWait(func(call int) { tc.hook(t, s, call, restore) })})
			var own []Finding
			for _, f := range r.Findings {
				if f.Object == tc.obj(s) {
					own = append(own, f)
				}
			}
			if tc.now == "" {
				var got []Kind
				for _, f := range own {
					got = append(got, f.Kind)
				}
				if !slices.Equal(got, tc.kinds) || len(r.Changed) != 0 {
					t.Errorf("findings %q, changed %+v; want %v", kinds(own), r.Changed, tc.kinds)
				}
				return
			}
			if len(own) != 0 || len(r.Changed) != 1 {
				t.Fatalf("findings %q, changed %+v; want one %s entry", kinds(own), r.Changed, tc.now)
			}
			c := r.Changed[0]
			seen := c.Seen
			if os.Geteuid() != 0 {
				// a store built without root cannot give files the tar's
				// owners: the scan also sees owner_mismatch
				seen = slices.DeleteFunc(slices.Clone(seen), func(k Kind) bool { return k == KindOwnerMismatch })
			}
			if c.Kind != KindChangedDuringScan || c.Object != tc.obj(s) || c.Now != tc.now || !slices.Equal(seen, tc.seen) || c.Message == "" || c.Path == "" {
				t.Errorf("changed %+v; want %s seen %v", c, tc.now, tc.seen)
			}
		})
	}
}

// Without a re-check, nothing changes: an object gone by the end of the
// scan is dropped silently, a half-made one is a finding.
func TestNoRecheckByDefault(t *testing.T) {
	s := build(t, richStore(), forms(t)[0])
	mustDo(t, os.Remove(filepath.Join(s.Root, "overlay2/l", s.layer(0).Link)))
	r := s.run(t, Options{Quick: true})
	if len(r.Changed) != 0 || len(r.Findings) != 1 || r.Findings[0].Kind != KindLinkBroken {
		t.Errorf("findings %q changed %+v", kinds(r.Findings), r.Changed)
	}
}

// The scan's own reads are memoized; a re-read must not be: Reopen gives a
// store that reads the disk again.
func TestReopenReadsAgain(t *testing.T) {
	b := fixtures.MustBuild(t, richStore(), fixtures.Options{Form: forms(t)[0]})
	st, err := inspect.Open(b.Root, fixtures.Backends(), "")
	mustDo(t, err)
	id := b.Containers[0].ID
	if c, _, _ := st.Containers(); len(c) != 1 {
		t.Fatalf("containers %+v", c)
	}
	mustDo(t, os.RemoveAll(filepath.Join(b.Root, "containers", id)))
	fresh, release, err := st.Reopen()
	mustDo(t, err)
	defer release()
	if c, _, _ := st.Containers(); len(c) != 1 {
		t.Errorf("the scan's store read again: %+v", c)
	}
	if c, _, _ := fresh.Containers(); len(c) != 0 {
		t.Errorf("the fresh store did not read again: %+v", c)
	}
	if _, _, exists := fresh.ContainerConfig(id); exists {
		t.Error("ContainerConfig of a removed container says it exists")
	}
}

// removingFS is the engine removing a container while the scan reads it:
// once the scan reads the container's rw layer record, the container's
// dir and rw layer are gone.
type removingFS struct {
	layerfs.OS
	record string
	remove func()
	done   bool
}

func (o *removingFS) ReadFile(p string, max int64) ([]byte, error) {
	b, err := o.OS.ReadFile(p, max)
	if p == o.record && !o.done {
		o.done = true
		o.remove()
	}
	return b, err
}

// An object gone by the end of the scan is a changed_during_scan entry
// (gone), not a finding; without a re-check it is dropped silently.
func TestRecheckGoneDuringScan(t *testing.T) {
	for _, recheck := range []bool{false, true} {
		b := fixtures.MustBuild(t, richStore(), fixtures.Options{Form: forms(t)[0]})
		c := b.Containers[0]
		o := &removingFS{record: filepath.Join(b.Root, "image/overlay2/layerdb/mounts", c.ID, "mount-id"), remove: func() {
			mustDo(t, os.RemoveAll(filepath.Join(b.Root, "overlay2", c.MountID)))
			mustDo(t, os.RemoveAll(filepath.Join(b.Root, "containers", c.ID)))
		}}
		st, err := inspect.OpenWith(b.Root, inspect.Options{Backends: fixtures.Backends(), FS: o})
		mustDo(t, err)
		opt := Options{Quick: true}
		if recheck {
			opt.Recheck = noWait(nil)
		}
		r, err := Run(context.Background(), st, opt)
		mustDo(t, err)
		if !o.done || len(r.Findings) != 0 {
			t.Fatalf("recheck %v: removed %v, findings %q", recheck, o.done, kinds(r.Findings))
		}
		switch {
		case !recheck && len(r.Changed) != 0:
			t.Errorf("no re-check: changed %+v", r.Changed)
		case recheck && (len(r.Changed) != 1 || r.Changed[0].Now != SettledGone || r.Changed[0].Object != c.ID ||
			!slices.Equal(r.Changed[0].Seen, []Kind{KindContainerLayerMissing}) || !slices.Equal(r.Changed[0].Affects.Containers, []string{"c1"})):
			t.Errorf("re-check: changed %+v", r.Changed)
		}
	}
}

// A stray name that stays is reported as before.
func TestRecheckKeepsStray(t *testing.T) {
	s := build(t, richStore(), forms(t)[0])
	mustDo(t, os.WriteFile(filepath.Join(s.Root, "image/overlay2/imagedb/content/sha256/.tmp-x"), nil, 0o600))
	want := s.run(t, Options{Quick: true})
	got := s.run(t, Options{Quick: true, Recheck: noWait(nil)})
	if len(want.Findings) != 1 || !reflect.DeepEqual(got.Findings, want.Findings) || len(got.Changed) != 0 {
		t.Errorf("with a re-check %q %+v; without %q", kinds(got.Findings), got.Changed, kinds(want.Findings))
	}
}

// The snapshot reads an aufs store as the scan does: its metadata
// tampers are reported as before.
func TestRecheckKeepsStableAUFSFindings(t *testing.T) {
	for name, do := range map[string]func(a aufsStore) error{
		"layers file edited": func(a aufsStore) error {
			return os.WriteFile(filepath.Join(a.root, "aufs/layers", a.layer(2).CacheID), []byte(a.layer(0).CacheID+"\n"), 0o644)
		},
		"layer dir removed": func(a aufsStore) error { return os.RemoveAll(filepath.Join(a.root, "aufs/diff", a.layer(1).CacheID)) },
		"container's layers file removed": func(a aufsStore) error {
			return os.Remove(filepath.Join(a.root, "aufs/layers", a.Containers[0].MountID))
		},
		"container's rw layer removed": func(a aufsStore) error {
			return os.RemoveAll(filepath.Join(a.root, "aufs/diff", a.Containers[0].MountID))
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := buildAUFS(t, richStore())
			mustDo(t, do(a))
			st := store{&fixtures.Built{Root: a.root}}
			want := st.run(t, Options{Quick: true})
			got := st.run(t, Options{Quick: true, Recheck: noWait(nil)})
			if len(want.Findings) == 0 || !reflect.DeepEqual(got.Findings, want.Findings) || len(got.Changed) != 0 {
				t.Errorf("with a re-check %q %+v; without %q", kinds(got.Findings), got.Changed, kinds(want.Findings))
			}
		})
	}
}

// A re-read sees what the scan could see: a store opened as a process
// that cannot see trusted.* xattrs is re-opened so, and its findings (the
// markers' absence is not held against it) stay those of the scan.
func TestRecheckKeepsPrivilege(t *testing.T) {
	s := build(t, richStore(), forms(t)[0])
	mustDo(t, os.Remove(filepath.Join(s.Root, "overlay2/l", s.layer(0).Link)))
	hidden := layerfs.Privilege{Why: "a test: no CAP_SYS_ADMIN"}
	open := func() *inspect.Store {
		st, err := inspect.OpenWith(s.Root, inspect.Options{Backends: fixtures.Backends(), Privilege: &hidden})
		mustDo(t, err)
		return st
	}
	want, err := Run(context.Background(), open(), Options{})
	mustDo(t, err)
	var seen []bool
	rc := Recheck{Delays: make([]time.Duration, 3), Reopen: func(st *inspect.Store) (*inspect.Store, func(), error) {
		fresh, release, err := st.Reopen()
		if err == nil {
			seen = append(seen, len(fresh.Gaps()) > 0)
		}
		return fresh, release, err
	}}
	got, err := Run(context.Background(), open(), Options{Recheck: rc})
	mustDo(t, err)
	if len(want.Findings) == 0 || !reflect.DeepEqual(got.Findings, want.Findings) || len(got.Changed) != 0 {
		t.Errorf("with a re-check %q %+v; without %q", kinds(got.Findings), got.Changed, kinds(want.Findings))
	}
	if !slices.Equal(seen, []bool{true, true, true}) {
		t.Errorf("the re-reads' stores hid trusted xattrs: %v, want every time", seen)
	}
}
