package buildkit

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/dlayer/dlayer/inspect/boltcopy"
	"github.com/dlayer/dlayer/inspect/layerfs"
	bolt "go.etcd.io/bbolt"
)

// maxSnapshotsDB bounds the copy of buildkit/snapshots.db.
const maxSnapshotsDB = 1 << 30

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
func Snapshots(o layerfs.Opener, path string) (map[string]bool, error) {
	db, err := boltcopy.Open(o, path, "", maxSnapshotsDB)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	names, err := readSnapshotNames(db.DB)
	if err != nil {
		return nil, fmt.Errorf("%s (private copy): %w", path, err)
	}
	return names, nil
}

// readSnapshotNames collects the names.
func readSnapshotNames(db *bolt.DB) (map[string]bool, error) {
	names := map[string]bool{}
	add := func(s string) {
		if s != "" && !strings.HasPrefix(s, "sha256:") && !strings.ContainsAny(s, "/\x00") {
			names[s] = true
		}
	}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			add(string(name))
			add(string(b.Get([]byte("committed"))))
			return nil
		})
	})
	return names, err
}
