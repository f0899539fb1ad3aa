package buildkit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/sys/unix"
)

// maxSnapshotsDB bounds the copy of buildkit/snapshots.db.
const maxSnapshotsDB = 1 << 30

// ErrBoltTimeout is returned when the private copy of a bolt database
// cannot be opened in time.
var ErrBoltTimeout = errors.New("bolt database did not open in time")

// Snapshots reads the driver dir names that BuildKit's snapshot store
// records in path (<root>/buildkit/snapshots.db). A live daemon holds
// the file's lock, so it is copied to a private temp file first and the
// copy is opened read-only with a timeout; the store is never locked or
// written. A missing file gives no names and no error.
//
// Docker 20.10's BuildKit snapshotter (moby builder/builder-next/adapters/
// snapshot) keeps one top-level bucket per snapshot key. As seen on a real
// 20.10 engine: an active snapshot's key is its overlay2 dir name (bucket
// with "parent"); a committed one is a bucket with "committed" naming its
// dir, whose own bucket has "iscommitted"; layers exported to the image
// store have "chainid" and live in layerdb; buckets named "sha256:…" are
// layer-store chain IDs. Every bucket name and every "committed" value that
// is not a chain ID is returned: those that exist in the driver home are
// build cache.
func Snapshots(path string) (map[string]bool, error) {
	src, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, layerfs.ErrNotRegular)
	}
	tmp, err := os.CreateTemp("", "dlayer-snapshots-*.db")
	if err != nil {
		return nil, fmt.Errorf("%s: private copy: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(src, maxSnapshotsDB+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%s: private copy: %w", path, err)
	}
	if n > maxSnapshotsDB {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", path, layerfs.ErrTooLarge, int64(maxSnapshotsDB))
	}
	names, err := readSnapshotNames(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("%s (private copy): %w", path, err)
	}
	return names, nil
}

// readSnapshotNames opens a bolt file read-only and collects the names.
func readSnapshotNames(file string) (map[string]bool, error) {
	db, err := bolt.Open(file, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %v", ErrBoltTimeout, err)
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	names := map[string]bool{}
	add := func(s string) {
		if s != "" && !strings.HasPrefix(s, "sha256:") && !strings.ContainsAny(s, "/\x00") {
			names[s] = true
		}
	}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			add(string(name))
			add(string(b.Get([]byte("committed"))))
			return nil
		})
	})
	return names, err
}
