package du

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/buildkit"
)

// TestBuildCache: dirs that snapshots.db names are build cache, not
// orphans, even while another process holds the database's lock.
func TestBuildCache(t *testing.T) {
	b := build(t, fixtures.Demo())
	ov := filepath.Join(b.Root, "overlay2")
	for _, id := range []string{"0upp1e535pl1embewu3uk4mu9", "kculm6yrhdii7vlqo8war8sy1"} {
		writeFile(t, filepath.Join(ov, id, "diff", "ctx"), "context")
		writeFile(t, filepath.Join(ov, id, "link"), "BUILDKITLINK"+strings.ToUpper(id[:14]))
	}
	writeFile(t, filepath.Join(ov, "zzzzzzzzzzzzzzzzzzzzzzzzz", "diff", "x"), "x")
	db, err := fixtures.SnapshotsDB(filepath.Join(b.Root, "buildkit", "snapshots.db"), string(b.Image("demo/base:1").Layers[0].ChainID))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before, err := os.ReadFile(filepath.Join(b.Root, "buildkit", "snapshots.db"))
	if err != nil {
		t.Fatal(err)
	}

	r := audit(t, b.Root, Options{})
	var names []string
	for _, d := range r.BuildCache {
		names = append(names, d.Name)
		if d.Size != 7 {
			t.Errorf("build cache %s: size %d, want 7", d.Name, d.Size)
		}
	}
	if strings.Join(names, ",") != "0upp1e535pl1embewu3uk4mu9,kculm6yrhdii7vlqo8war8sy1" {
		t.Errorf("build cache %v", names)
	}
	if len(r.Orphans) != 1 || r.Orphans[0].Name != "zzzzzzzzzzzzzzzzzzzzzzzzz" {
		t.Errorf("orphans %+v: only the dir snapshots.db does not name", r.Orphans)
	}
	if r.Summary.BuildCache.Count != 2 || r.Summary.BuildCache.Size != 14 {
		t.Errorf("summary build cache %+v", r.Summary.BuildCache)
	}
	after, _ := os.ReadFile(filepath.Join(b.Root, "buildkit", "snapshots.db"))
	if string(before) != string(after) {
		t.Error("snapshots.db changed")
	}
	for _, f := range r.Findings {
		if f.Kind != "link_missing" {
			t.Errorf("unexpected finding %+v", f)
		}
	}
	checkTotals(t, r)
}

// TestBuildCacheUnreadable: a damaged snapshots.db is a finding, and the
// dirs it would have named are orphans that say so.
func TestBuildCacheUnreadable(t *testing.T) {
	b := build(t, fixtures.Demo())
	writeFile(t, filepath.Join(b.Root, "buildkit", "snapshots.db"), "not a bolt file")
	writeFile(t, filepath.Join(b.Root, "overlay2", "0upp1e535pl1embewu3uk4mu9", "diff", "x"), "x")
	r := audit(t, b.Root, Options{})
	f := findingKinds(r)["buildkit_unreadable"]
	if len(f) != 1 || !strings.Contains(f[0].Message, "private copy") {
		t.Errorf("findings %+v", r.Findings)
	}
	if len(r.Orphans) != 1 {
		t.Errorf("orphans %+v", r.Orphans)
	}
	if _, err := buildkit.Snapshots(nil, filepath.Join(b.Root, "nope.db")); err != nil {
		t.Errorf("a missing snapshots.db is no error: %v", err)
	}
	if err := os.Symlink("snapshots.db", filepath.Join(b.Root, "buildkit", "link.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := buildkit.Snapshots(nil, filepath.Join(b.Root, "buildkit", "link.db")); err == nil || errors.Is(err, os.ErrNotExist) {
		t.Errorf("a symlinked snapshots.db must be refused: %v", err)
	}
}
