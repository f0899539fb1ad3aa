package verify

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"golang.org/x/sys/unix"
)

// roundTrip encodes and parses a state, as the CLI writes and reads it.
func roundTrip(t *testing.T, s *State) *State {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ParseState(&buf)
	if err != nil {
		t.Fatalf("parse what Encode wrote: %v", err)
	}
	return got
}

// record runs a full verify with Trust and returns the state it records.
func (s store) record(t *testing.T) *State {
	t.Helper()
	r := s.run(t, Options{Trust: &Trust{}})
	if r.Trust == nil || r.Next == nil {
		t.Fatal("a run with Trust gives no TrustReport or next state")
	}
	if r.Trust.LayersTrusted != 0 || r.Trust.LayersRehashed != r.Stats.Layers || r.Trust.RecordedAt != nil {
		t.Errorf("first run: %+v: nothing recorded, every layer is re-hashed", *r.Trust)
	}
	return roundTrip(t, r.Next)
}

// changeByte changes the first byte of file p and puts its mtime back:
// only its ctime (which the kernel sets) tells.
func changeByte(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(f.Close(), os.Chtimes(p, fi.ModTime(), fi.ModTime())); err != nil {
		t.Fatal(err)
	}
}

// TestStateUnchangedTrusted: after a run that recorded the store, a run
// on the unchanged store re-hashes nothing, trusts every layer and says
// why; its findings (none) and its next state are the first run's.
func TestStateUnchangedTrusted(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	prev := s.record(t)
	if len(prev.Layers) != 3 || prev.Root != s.Root {
		t.Fatalf("recorded %d layers for %s, want the 3 of %s", len(prev.Layers), prev.Root, s.Root)
	}
	r := s.run(t, Options{Trust: &Trust{Prev: prev}})
	if len(r.Findings) != 0 {
		t.Fatalf("unchanged store: %q", kinds(r.Findings))
	}
	tr := r.Trust
	if tr.LayersTrusted != 3 || tr.LayersRehashed != 0 || r.Stats.LayersHashed != 0 || r.Stats.BytesHashed != 0 {
		t.Errorf("unchanged store: %+v, stats %+v: every layer trusted, none re-hashed", *tr, r.Stats)
	}
	if tr.EntriesWalked == 0 || tr.RecordedAt == nil || !tr.RecordedAt.Equal(prev.Written) || tr.Oldest == nil || !tr.Oldest.Equal(prev.Layers[0].Hashed) {
		t.Errorf("trust report %+v: entries walked, the record's time and the oldest re-hash", *tr)
	}
	for _, w := range []string{"ctime", "only by the kernel", "raw block device", "--max-age"} {
		if !strings.Contains(tr.Statement, w) {
			t.Errorf("statement lacks %q: %s", w, tr.Statement)
		}
	}
	if !slices.Equal(r.Next.Layers, prev.Layers) {
		t.Errorf("next state %+v, want the records carried over %+v", r.Next.Layers, prev.Layers)
	}
}

// TestStateCatchesOneByte: one byte changed in a lower layer's file, its
// mtime put back, is caught with the findings a run without the state
// gives; the layer is re-hashed, the others trusted, and it is not
// recorded as established.
func TestStateCatchesOneByte(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	prev := s.record(t)
	changeByte(t, s.diff(0, "etc/conf"))
	want := s.run(t, Options{})
	if len(want.Findings) == 0 {
		t.Fatal("the changed byte gives no finding without the state")
	}
	r := s.run(t, Options{Trust: &Trust{Prev: prev}})
	if !slices.Equal(kinds(r.Findings), kinds(want.Findings)) {
		t.Errorf("with the state %q, without %q", kinds(r.Findings), kinds(want.Findings))
	}
	if r.Trust.LayersTrusted != 2 || r.Trust.LayersRehashed != 1 || r.Stats.LayersHashed != 1 {
		t.Errorf("%+v, stats %+v: the changed layer re-hashed, the 2 others trusted", *r.Trust, r.Stats)
	}
	changed := s.layer(0).ChainID
	for _, l := range r.Next.Layers {
		if l.ChainID == changed {
			t.Errorf("the layer with findings is recorded as established: %+v", l)
		}
	}
	if len(r.Next.Layers) != 2 {
		t.Errorf("next state has %d layers, want the 2 unchanged", len(r.Next.Layers))
	}
	// and the next run re-hashes it again, with the same findings
	again := s.run(t, Options{Trust: &Trust{Prev: roundTrip(t, r.Next)}})
	if !slices.Equal(kinds(again.Findings), kinds(want.Findings)) || again.Trust.LayersRehashed != 1 {
		t.Errorf("next run: %q, %+v", kinds(again.Findings), *again.Trust)
	}
}

// TestStateOtherChanges: a chmod, an added file and a new xattr (which
// verify does not check: only the ctime tells) each make the layer's
// tree differ from the record: re-hashed, with the findings of a run
// without the state.
func TestStateOtherChanges(t *testing.T) {
	for name, c := range map[string]struct {
		tamper func(s store) error
		kind   Kind
	}{
		"chmod": {func(s store) error { return unix.Chmod(s.diff(0, "bin/tool"), 0o4755) }, KindModeMismatch},
		"added": {func(s store) error { return os.WriteFile(s.diff(1, "data/evil"), []byte("x"), 0o644) }, KindExtraFile},
		"xattr": {func(s store) error { return unix.Lsetxattr(s.diff(2, "top"), "user.x", []byte("1"), 0) }, ""},
	} {
		t.Run(name, func(t *testing.T) {
			s := build(t, richStore(), fixtures.FormAuto)
			prev := s.record(t)
			if err := c.tamper(s); err != nil {
				t.Skipf("cannot tamper here: %v", err)
			}
			r := s.run(t, Options{Trust: &Trust{Prev: prev}})
			want := s.run(t, Options{})
			if r.Trust.LayersRehashed != 1 || !slices.Equal(kinds(r.Findings), kinds(want.Findings)) {
				t.Errorf("%+v: %q, want one layer re-hashed and %q", *r.Trust, kinds(r.Findings), kinds(want.Findings))
			}
			if c.kind != "" && !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Kind == c.kind }) {
				t.Errorf("%q: no %s", kinds(r.Findings), c.kind)
			}
		})
	}
}

// TestStateMaxAge: records older than NotBefore are not trusted: the run
// re-hashes every layer (--max-age 0, or an age elapsed).
func TestStateMaxAge(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	prev := s.record(t)
	for name, nb := range map[string]time.Time{"max-age 0": time.Now(), "elapsed": prev.Layers[0].Hashed.Add(time.Nanosecond)} {
		r := s.run(t, Options{Trust: &Trust{Prev: prev, NotBefore: nb}})
		if r.Trust.LayersTrusted != 0 || r.Trust.LayersRehashed != 3 || r.Stats.LayersHashed != 3 || len(r.Findings) != 0 {
			t.Errorf("%s: %+v, stats %+v: every layer re-hashed", name, *r.Trust, r.Stats)
		}
		if len(r.Next.Layers) != 3 || !r.Next.Layers[0].Hashed.After(prev.Layers[0].Hashed) {
			t.Errorf("%s: the re-hash is not recorded anew: %+v", name, r.Next.Layers)
		}
	}
	r := s.run(t, Options{Trust: &Trust{Prev: prev, NotBefore: prev.Layers[0].Hashed}})
	if r.Trust.LayersTrusted != 3 {
		t.Errorf("a record as old as the limit is trusted: %+v", *r.Trust)
	}
}

// TestStateFindingsNotRecorded: a layer with findings on the first run
// is not recorded, so the next run re-hashes it and finds them again.
func TestStateFindingsNotRecorded(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	if err := os.WriteFile(s.diff(2, "evil"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := s.run(t, Options{Trust: &Trust{}})
	if len(r.Findings) == 0 {
		t.Fatal("no finding for the added file")
	}
	for _, l := range r.Next.Layers {
		if l.ChainID == s.layer(2).ChainID {
			t.Fatalf("the layer with a finding is recorded: %+v", l)
		}
	}
	again := s.run(t, Options{Trust: &Trust{Prev: roundTrip(t, r.Next)}})
	if !slices.Equal(kinds(again.Findings), kinds(r.Findings)) || again.Trust.LayersTrusted != 2 || again.Trust.LayersRehashed != 1 {
		t.Errorf("second run: %q, %+v", kinds(again.Findings), *again.Trust)
	}
}

// TestStateOtherKey: a record is used only for the layer it was made
// for: another DiffID or cache dir makes it re-hashed.
func TestStateOtherKey(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	prev := s.record(t)
	for i := range prev.Layers {
		prev.Layers[i].CacheID += "x"
	}
	r := s.run(t, Options{Trust: &Trust{Prev: prev}})
	if r.Trust.LayersTrusted != 0 {
		t.Errorf("records of other cache dirs trusted: %+v", *r.Trust)
	}
}

// TestStateAUFS: the same on an aufs store.
func TestStateAUFS(t *testing.T) {
	a := buildAUFS(t, richStore())
	s := store{&fixtures.Built{Root: a.root}}
	prev := s.record(t)
	r := s.run(t, Options{Trust: &Trust{Prev: prev}})
	if len(r.Findings) != 0 || r.Trust.LayersTrusted != 3 || r.Stats.LayersHashed != 0 {
		t.Fatalf("unchanged aufs store: %q %+v", kinds(r.Findings), *r.Trust)
	}
	changeByte(t, a.diff(0, "etc/conf"))
	r = s.run(t, Options{Trust: &Trust{Prev: prev}})
	if r.Trust.LayersRehashed != 1 || !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Kind == KindContentMismatch }) {
		t.Errorf("changed byte on aufs: %q %+v", kinds(r.Findings), *r.Trust)
	}
}

// TestParseStateMalformed: what is not a state file this dlayer wrote is
// refused with ErrStateInvalid, never half-used.
func TestParseStateMalformed(t *testing.T) {
	good := `{"format":"dlayer-verify-state","version":1,"root":"/r","written":"2026-01-01T00:00:00Z","layers":[` +
		`{"driver":"overlay2","chain_id":"sha256:` + strings.Repeat("a", 64) + `","cache_id":"c","diff_id":"sha256:` + strings.Repeat("b", 64) +
		`","entries":3,"tree":"` + strings.Repeat("c", 64) + `","hashed":"2026-01-01T00:00:00Z"}]}`
	if s, err := ParseState(strings.NewReader(good)); err != nil || len(s.Layers) != 1 {
		t.Fatalf("good state: %v", err)
	}
	for name, in := range map[string]string{
		"empty":        "",
		"not json":     "garbage\x00\xff",
		"truncated":    good[:len(good)/2],
		"foreign":      `{"Repositories":{}}`,
		"other format": strings.Replace(good, "dlayer-verify-state", "x", 1),
		"version 2":    strings.Replace(good, `"version":1`, `"version":2`, 1),
		"no root":      strings.Replace(good, `"root":"/r"`, `"root":""`, 1),
		"bad chain":    strings.Replace(good, "sha256:"+strings.Repeat("a", 64), "sha256:zz", 1),
		"bad tree":     strings.Replace(good, strings.Repeat("c", 64), "cc", 1),
		"no entries":   strings.Replace(good, `"entries":3`, `"entries":0`, 1),
		"wrong type":   strings.Replace(good, `"entries":3`, `"entries":"3"`, 1),
		"too large":    good + strings.Repeat(" ", MaxStateBytes),
	} {
		if _, err := ParseState(strings.NewReader(in)); !errors.Is(err, ErrStateInvalid) {
			t.Errorf("%s: %v, want ErrStateInvalid", name, err)
		}
	}
	s, _ := ParseState(strings.NewReader(good))
	if err := s.For("/other"); !errors.Is(err, ErrStateInvalid) || !strings.Contains(err.Error(), "/r") {
		t.Errorf("another root: %v", err)
	}
}

// FuzzParseState: whatever the bytes, ParseState returns a state or an
// error, and a state it returns encodes and parses again.
func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"format":"dlayer-verify-state","version":1,"root":"/r","written":"2026-01-01T00:00:00Z","layers":[]}`))
	f.Add([]byte(`{"format":"dlayer-verify-state","version":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseState(bytes.NewReader(b))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := s.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseState(&buf); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
	})
}
