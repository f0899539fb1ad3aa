package boltcopy

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dlayer/dlayer/inspect/layerfs"
	bolt "go.etcd.io/bbolt"
)

// TestOpenLockedCopy: a bolt file held open (and flocked) by a writer, as
// a live daemon holds its own, opens through a private copy; the original
// is not changed, and the copy is gone after Close.
func TestOpenLockedCopy(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "meta.db")
	live, err := bolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := live.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("v1"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p)
	o, err := layerfs.OpenBeneath(root)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	db, err := Open(o, p, tmp, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	db.View(func(tx *bolt.Tx) error {
		got = string(tx.Bucket([]byte("v1")).Get([]byte("k")))
		return nil
	})
	if got != "v" || db.MayBeMidWrite {
		t.Errorf("read %q, mid-write %v", got, db.MayBeMidWrite)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("the private copy is left behind: %v", ents)
	}
	after, _ := os.Stat(p)
	if !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Error("the original changed")
	}
}

// TestOpenRefuses: a FIFO is never opened, a file over the bound is not
// copied, and a symlink in the path is not followed.
func TestOpenRefuses(t *testing.T) {
	root := t.TempDir()
	fifo := filepath.Join(root, "fifo.db")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(root, "big.db")
	if err := os.WriteFile(big, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "meta.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(out, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	o, err := layerfs.OpenBeneath(root)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]error{fifo: layerfs.ErrNotRegular, big: layerfs.ErrTooLarge, filepath.Join(root, "link", "meta.db"): layerfs.ErrSymlinkInPath} {
		if _, err := Open(o, p, "", 1024); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", p, err, want)
		}
	}
}
