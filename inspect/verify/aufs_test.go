package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// aufsStore is the aufs twin of a built fixture store.
type aufsStore struct {
	store
	root string
}

func buildAUFS(t *testing.T, s fixtures.Store) aufsStore {
	t.Helper()
	b := build(t, s, fixtures.FormAuto)
	dst := filepath.Join(t.TempDir(), "aufs")
	if _, err := fixtures.AUFSTwin(b.Root, dst, fixtures.TwinOptions{}); err != nil {
		t.Fatal(err)
	}
	return aufsStore{b, dst}
}

func (a aufsStore) diff(i int, rel string) string {
	return filepath.Join(a.root, "aufs/diff", a.layer(i).CacheID, rel)
}

func (a aufsStore) run(t *testing.T) *Report {
	t.Helper()
	return store{&fixtures.Built{Root: a.root}}.run(t, Options{})
}

func TestAUFSClean(t *testing.T) {
	for name, st := range map[string]fixtures.Store{"demo": fixtures.Demo(), "rich": richStore()} {
		t.Run(name, func(t *testing.T) {
			a := buildAUFS(t, st)
			s, err := inspect.Open(a.root, fixtures.Backends(), "")
			if err != nil || s.Driver != "aufs" {
				t.Fatalf("%v %v", s, err)
			}
			if _, err := Run(context.Background(), s, Options{}); err != nil {
				t.Fatal(err)
			}
			r := a.run(t)
			if len(r.Findings) != 0 {
				t.Fatalf("clean aufs store: %q", kinds(r.Findings))
			}
			if r.Stats.Layers == 0 || r.Stats.LayersHashed != r.Stats.Layers || r.Stats.Containers != len(a.Containers) {
				t.Errorf("stats %+v", r.Stats)
			}
		})
	}
}

// Tampers of what only aufs has: marker files and layers files.
func TestAUFSTampers(t *testing.T) {
	chain := func(i int) func(aufsStore) string {
		return func(a aufsStore) string { return a.layer(i).ChainID.String() }
	}
	cases := []struct {
		name string
		do   func(a aufsStore) error
		kind Kind
		obj  func(aufsStore) string
		path func(aufsStore) string
	}{
		{"whiteout file removed", func(a aufsStore) error { return os.Remove(a.diff(1, "etc/.wh.gone")) },
			KindWhiteoutMissing, chain(1), func(aufsStore) string { return "/etc/.wh.gone" }},
		{"whiteout file added", func(a aufsStore) error { return os.WriteFile(a.diff(1, "etc/.wh.conf"), nil, 0o644) },
			KindWhiteoutExtra, chain(1), func(aufsStore) string { return "/etc/.wh.conf" }},
		{"opaque marker removed", func(a aufsStore) error { return os.Remove(a.diff(1, "data/.wh..wh..opq")) },
			KindOpaqueMissing, chain(1), func(aufsStore) string { return "/data/.wh..wh..opq" }},
		{"opaque marker added", func(a aufsStore) error { return os.WriteFile(a.diff(0, "etc/.wh..wh..opq"), nil, 0o644) },
			KindOpaqueExtra, chain(0), func(aufsStore) string { return "/etc/.wh..wh..opq" }},
		{"file changed", func(a aufsStore) error { return os.WriteFile(a.diff(0, "etc/conf"), []byte("a=2\n"), 0o644) },
			KindContentMismatch, chain(0), func(aufsStore) string { return "/etc/conf" }},
		{"layers file edited", func(a aufsStore) error {
			return os.WriteFile(filepath.Join(a.root, "aufs/layers", a.layer(2).CacheID), []byte(a.layer(0).CacheID+"\n"), 0o644)
		}, KindLowerMismatch, chain(2), func(a aufsStore) string { return filepath.Join(a.root, "aufs/layers", a.layer(2).CacheID) }},
		{"layer dir removed", func(a aufsStore) error { return os.RemoveAll(filepath.Join(a.root, "aufs/diff", a.layer(1).CacheID)) },
			KindCacheDirMissing, chain(1), func(a aufsStore) string { return filepath.Join(a.root, "aufs/diff", a.layer(1).CacheID) }},
		{"container's layers file removed", func(a aufsStore) error {
			return os.Remove(filepath.Join(a.root, "aufs/layers", a.Containers[0].MountID))
		}, KindContainerLowerMismatch, func(a aufsStore) string { return a.Containers[0].ID },
			func(a aufsStore) string { return filepath.Join(a.root, "aufs/layers", a.Containers[0].MountID) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := buildAUFS(t, richStore())
			if err := tc.do(a); err != nil {
				t.Fatal(err)
			}
			r := a.run(t)
			found := false
			for _, f := range r.Findings {
				if f.Kind == tc.kind && f.Object == tc.obj(a) && f.Path == tc.path(a) {
					found = true
					if f.Message == "" || f.Check != f.Kind.Check() || strings.Contains(f.Message, "overlay") {
						t.Errorf("finding incomplete or speaks overlay: %+v", f)
					}
				}
			}
			if !found {
				t.Fatalf("want %s on %s at %s; got %q", tc.kind, tc.obj(a), tc.path(a), kinds(r.Findings))
			}
		})
	}
}
