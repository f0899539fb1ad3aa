// Package boltcopy opens a bolt database of the evidence without touching
// it: the file is read through the store's opener (beneath the root, a
// regular file only, within a size bound) into a private temp copy, and
// the copy is opened read-only with a bounded wait.
//
// A live daemon (containerd, BuildKit) holds an exclusive flock on its
// bolt files, which blocks even a read-only open of the original; and an
// open of the original could take a lock the daemon then waits on. The
// copy has neither problem. A copy taken while the daemon writes may be
// mid-write: DB.MayBeMidWrite says when the file changed during the copy.
package boltcopy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrTimeout is returned when the private copy cannot be opened in time.
var ErrTimeout = errors.New("bolt database did not open in time")

// openWait bounds the wait for the copy's lock (only this process holds
// the copy, so it is never contended in practice).
const openWait = 2 * time.Second

// DB is a read-only bolt database opened from a private copy.
type DB struct {
	*bolt.DB
	// Source is the file the copy was taken from.
	Source string
	// MayBeMidWrite is true when the source changed while it was copied:
	// a daemon was writing it, and the copy may hold half a transaction.
	MayBeMidWrite bool
	copy          string
}

// Open copies the bolt file at path, read through o, of at most max bytes,
// into a private temp file in tmpdir ("" for os.TempDir) and opens the
// copy read-only. Close removes the copy.
func Open(o layerfs.Opener, path, tmpdir string, max int64) (*DB, error) {
	src, err := layerfs.OrOS(o).OpenFile(path, max)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	before, err := src.Stat()
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(tmpdir, "dlayer-bolt-*.db")
	if err != nil {
		return nil, fmt.Errorf("%s: private copy: %w", path, err)
	}
	n, err := io.Copy(tmp, io.LimitReader(src, max+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > max {
		err = fmt.Errorf("%w (over %d bytes)", layerfs.ErrTooLarge, max)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("%s: private copy: %w", path, err)
	}
	after, err := src.Stat()
	changed := err != nil || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) || n != before.Size()
	db, err := bolt.Open(tmp.Name(), 0o600, &bolt.Options{ReadOnly: true, Timeout: openWait})
	if err != nil {
		os.Remove(tmp.Name())
		if errors.Is(err, berrors.ErrTimeout) {
			err = fmt.Errorf("%w: %v", ErrTimeout, err)
		}
		if changed {
			return nil, fmt.Errorf("%s (private copy, taken while it was being written): %w", path, err)
		}
		return nil, fmt.Errorf("%s (private copy): %w", path, err)
	}
	return &DB{DB: db, Source: path, MayBeMidWrite: changed, copy: tmp.Name()}, nil
}

// Close closes the database and removes the private copy.
func (d *DB) Close() error {
	err := d.DB.Close()
	if rerr := os.Remove(d.copy); err == nil {
		err = rerr
	}
	return err
}
