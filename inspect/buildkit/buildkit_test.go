package buildkit

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

const chain = "sha256:3b5f8d9c1a1f0e8a0a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012"

// TestSnapshots: every snapshot key and committed dir is a name, chain
// IDs are not, and the database is read while another process holds its
// lock, without changing it.
func TestSnapshots(t *testing.T) {
	p := filepath.Join(t.TempDir(), "buildkit", "snapshots.db")
	db, err := fixtures.SnapshotsDB(p, chain, "extra4ctive5napshot000000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	names, err := Snapshots(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := range names {
		got = append(got, n)
	}
	slices.Sort(got)
	want := []string{fixtures.BuildKitActive, "a7hlpa474od9smwkj6xfdhtxt", "extra4ctive5napshot000000", fixtures.BuildKitCommitted, "rxkm7bgt1cl6abvs5tn5ft8aj"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("names %v, want %v", got, want)
	}
	if after, _ := os.ReadFile(p); string(before) != string(after) {
		t.Error("snapshots.db changed")
	}
}

// TestSnapshotsRefuses: a missing file is no names and no error; a file
// that is not a bolt database, a symlink or a non-regular file is an
// error naming the path.
func TestSnapshotsRefuses(t *testing.T) {
	dir := t.TempDir()
	if names, err := Snapshots(nil, filepath.Join(dir, "nope.db")); err != nil || len(names) != 0 {
		t.Errorf("a missing snapshots.db is no error: %v %v", names, err)
	}
	bad := filepath.Join(dir, "snapshots.db")
	if err := os.WriteFile(bad, []byte("not a bolt file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshots(nil, bad); err == nil || !strings.Contains(err.Error(), "private copy") || !strings.Contains(err.Error(), bad) {
		t.Errorf("not a bolt file: %v", err)
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink("snapshots.db", link); err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshots(nil, link); err == nil || errors.Is(err, os.ErrNotExist) {
		t.Errorf("a symlinked snapshots.db must be refused: %v", err)
	}
	sub := filepath.Join(dir, "dir.db")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshots(nil, sub); !errors.Is(err, layerfs.ErrNotRegular) {
		t.Errorf("a dir: %v, want ErrNotRegular", err)
	}
}
