package verify

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"golang.org/x/sys/unix"
)

// forms are the whiteout forms this user can build.
func forms(t *testing.T) []fixtures.WhiteoutForm {
	var out []fixtures.WhiteoutForm
	for _, f := range []fixtures.WhiteoutForm{fixtures.FormDevice, fixtures.FormDeviceUser, fixtures.FormXattrTrusted, fixtures.FormXattrUser} {
		_, err := fixtures.Store{}.Build(t.TempDir(), fixtures.Options{Form: f})
		if errors.Is(err, fixtures.ErrFormUnsupported) {
			continue
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		t.Fatal("no whiteout form can be built here")
	}
	return out
}

func TestCleanStores(t *testing.T) {
	for _, form := range forms(t) {
		for name, st := range map[string]fixtures.Store{"demo": fixtures.Demo(), "rich": richStore()} {
			t.Run(name+"/"+form.String(), func(t *testing.T) {
				s := build(t, st, form)
				r := s.run(t, Options{})
				if len(r.Findings) != 0 {
					t.Fatalf("clean store: %d findings: %q\nfirst: %+v", len(r.Findings), kinds(r.Findings), r.Findings[0])
				}
				if r.Stats.Layers == 0 || r.Stats.LayersHashed != r.Stats.Layers || r.Stats.BytesHashed == 0 || r.Stats.Entries == 0 {
					t.Errorf("stats %+v: every layer must be rebuilt", r.Stats)
				}
				q := s.run(t, Options{Quick: true})
				if len(q.Findings) != 0 || q.Stats.LayersHashed != 0 || q.Stats.BytesHashed != 0 {
					t.Errorf("quick: %+v %q", q.Stats, kinds(q.Findings))
				}
			})
		}
	}
}

func TestEmptyStore(t *testing.T) {
	s := build(t, fixtures.Store{}, fixtures.FormAuto)
	r := s.run(t, Options{})
	if len(r.Findings) != 0 || r.Stats.Layers != 0 {
		t.Fatalf("%+v %q", r.Stats, kinds(r.Findings))
	}
}

// TestParallelismDoesNotChangeResults runs with one reader, one layer at
// a time and a read-ahead smaller than a file, and with many: same result.
func TestParallelismDoesNotChangeResults(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	unix.Chmod(s.diff(0, "bin/tool"), 0o4755)
	os.WriteFile(s.diff(2, "extra"), []byte("x"), 0o644)
	a := s.run(t, Options{Jobs: 1, Readers: 1, ReadAhead: 1})
	b := s.run(t, Options{Jobs: 8, Readers: 64})
	if !slices.Equal(kinds(a.Findings), kinds(b.Findings)) || a.Stats != b.Stats {
		t.Fatalf("serial %q %+v\nparallel %q %+v", kinds(a.Findings), a.Stats, kinds(b.Findings), b.Stats)
	}
}

func TestCanceled(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	st, _ := inspect.Open(s.Root, fixtures.Backends(), "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, st, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled run: %v", err)
	}
}

func TestProgress(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	st, _ := inspect.Open(s.Root, fixtures.Backends(), "")
	calls := 0
	_, err := Run(context.Background(), st, Options{Progress: func(p Progress) {
		calls++
		if p.LayersTotal != 3 || p.LayersDone > 3 {
			t.Errorf("progress %+v", p)
		}
	}, ProgressEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = calls // timing-dependent: the layers may all finish before the first tick
}

func TestKinds(t *testing.T) {
	ks := Kinds()
	n := 0
	for _, c := range checks() {
		n += len(c.kinds())
	}
	if len(ks) != n || len(slices.Compact(slices.Sorted(slices.Values(ks)))) != n {
		t.Fatalf("%d kinds, %d checks", len(ks), n)
	}
	for _, k := range ks {
		if k.Check() == "" {
			t.Errorf("%s has no check", k)
		}
	}
}
