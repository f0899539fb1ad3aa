package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// StateFormat and StateVersion name the state file's format: a file
// without them is not one (another tool's JSON, a file named by mistake).
const (
	StateFormat  = "dlayer-verify-state"
	StateVersion = 1
)

// Bounds on a state file, which is read from outside the store but still
// not trusted to be well-formed: far above any real store (a record is
// about 400 bytes).
const (
	MaxStateBytes   = 64 << 20
	maxStateRecords = 1 << 17
)

// ErrStateInvalid is the error of a state file that cannot be used: it
// does not parse, is too large, is of another format or version, or was
// recorded for another root.
var ErrStateInvalid = errors.New("not a usable verify state file")

// State is what earlier full re-hashes established, for a later run to
// trust layers whose trees have not changed since (Options.Trust).
//
// It records, per layer, a compact fingerprint of its tree rather than
// every entry: the number of entries and a SHA-256 over every entry's
// path, type and mode, owner, size, device number (of a device node),
// inode, link count, mtime and ctime (nanoseconds), taken by a walk at
// stat cost (fingerprint.go); st_dev is left out, as it may change each
// time a disk image is mounted.
// Comparing two such fingerprints tells whether any of these changed for
// any entry, which is all a later run needs to know: it re-hashes such a
// layer in full, and the full check then names what differs. So the file
// stays about 400 bytes a layer, and reading it costs no memory per
// entry, whatever the size of the layers.
type State struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Root is the data root as the run that wrote the state named it.
	Root string `json:"root"`
	// Written is when the state was written.
	Written time.Time     `json:"written"`
	Layers  []LayerRecord `json:"layers"`
	Blobs   []BlobRecord  `json:"blobs,omitempty"`
}

// LayerRecord is one layer whose full re-hash passed (no finding of any
// check about it), and its tree as that re-hash found it.
type LayerRecord struct {
	// Driver, ChainID, CacheID (the driver's dir of the layer: a cache
	// ID, or a snapshot's key) and DiffID (the digest its content must
	// hash to) identify the layer's contents: a record for other ones is
	// never used.
	Driver  string        `json:"driver"`
	ChainID digest.Digest `json:"chain_id"`
	CacheID string        `json:"cache_id"`
	DiffID  digest.Digest `json:"diff_id"`
	// Entries is the number of entries of the layer's content dir, the
	// dir itself included; Tree the hex SHA-256 of their stat fields
	// (with the stat of the file the layer's tar comes from: tar-split or
	// blob).
	Entries int64  `json:"entries"`
	Tree    string `json:"tree"`
	// Hashed is when the full re-hash that established it started.
	Hashed time.Time `json:"hashed"`
}

// BlobRecord is one content blob (a store whose layers come from blobs)
// that was re-hashed in full and matched its digest, and its stat then.
type BlobRecord struct {
	Digest digest.Digest `json:"digest"`
	// Stat is the hex SHA-256 of the blob file's stat fields.
	Stat   string    `json:"stat"`
	Hashed time.Time `json:"hashed"`
}

// ParseState reads a state file written by State.Encode: at most
// MaxStateBytes, of this format and version, each record well-formed. Its
// errors wrap ErrStateInvalid.
func ParseState(r io.Reader) (*State, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxStateBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxStateBytes {
		return nil, fmt.Errorf("%w: larger than %d MiB", ErrStateInvalid, MaxStateBytes>>20)
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStateInvalid, err)
	}
	if head.Format != StateFormat {
		return nil, fmt.Errorf("%w: format %q, not %q", ErrStateInvalid, head.Format, StateFormat)
	}
	if head.Version != StateVersion {
		return nil, fmt.Errorf("%w: version %d, this dlayer reads version %d", ErrStateInvalid, head.Version, StateVersion)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStateInvalid, err)
	}
	if len(s.Layers) > maxStateRecords || len(s.Blobs) > maxStateRecords {
		return nil, fmt.Errorf("%w: more than %d records", ErrStateInvalid, maxStateRecords)
	}
	if s.Root == "" || s.Written.IsZero() {
		return nil, fmt.Errorf("%w: no root or no time written", ErrStateInvalid)
	}
	for i, l := range s.Layers {
		if l.ChainID.Validate() != nil || l.DiffID.Validate() != nil || !isHex64(l.Tree) || l.Driver == "" || l.CacheID == "" || l.Entries < 1 || l.Hashed.IsZero() {
			return nil, fmt.Errorf("%w: layer record %d is malformed", ErrStateInvalid, i+1)
		}
	}
	for i, bl := range s.Blobs {
		if bl.Digest.Validate() != nil || !isHex64(bl.Stat) || bl.Hashed.IsZero() {
			return nil, fmt.Errorf("%w: blob record %d is malformed", ErrStateInvalid, i+1)
		}
	}
	return &s, nil
}

// For checks that the state was recorded for root (as the store names
// it): a record of another store says nothing of this one.
func (s *State) For(root string) error {
	if s.Root != root {
		return fmt.Errorf("%w: recorded for the data root %s, not %s", ErrStateInvalid, s.Root, root)
	}
	return nil
}

// Encode writes the state as JSON.
func (s *State) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(s)
}

// merge adds o's records (another driver's store of the same root).
func (s *State) merge(o *State) {
	s.Layers = append(s.Layers, o.Layers...)
	s.Blobs = append(s.Blobs, o.Blobs...)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// layerKey is what identifies a layer's record.
type layerKey struct {
	driver, cacheID string
	chainID, diffID digest.Digest
}

// Trust lets a run skip the full re-hash of layers (and content blobs)
// that an earlier run established and whose trees have not changed since,
// by stat: see TrustReport.Statement for why that is sound and what it
// does not cover.
type Trust struct {
	// Prev is the state of earlier runs; nil when there is none (every
	// layer is re-hashed, and Report.Next records them).
	Prev *State
	// NotBefore: records of a re-hash older than it are not trusted (the
	// layer is re-hashed); the zero time trusts any age.
	NotBefore time.Time
}

// TrustReport says what a run with Options.Trust trusted and re-hashed.
type TrustReport struct {
	// File, MaxAge and Problem are filled by the caller: the state file,
	// the age limit ("" when none), and why the file could not be used.
	File    string `json:"file"`
	MaxAge  string `json:"max_age,omitempty"`
	Problem string `json:"problem,omitempty"`
	// RecordedAt is when the state read was written; Oldest the oldest
	// full re-hash a trusted layer or blob rests on (zero when none).
	RecordedAt *time.Time `json:"recorded_at"`
	Oldest     *time.Time `json:"oldest_trusted_hash"`
	// LayersTrusted were not re-hashed: their trees' stat fingerprints
	// equal the record; LayersRehashed were (no record, too old, or their
	// trees differ); EntriesWalked are the entries stat-ed to tell which.
	LayersTrusted  int   `json:"layers_trusted"`
	LayersRehashed int   `json:"layers_rehashed"`
	EntriesWalked  int64 `json:"entries_walked"`
	// BlobsTrusted are content blobs not re-hashed: their stat equals the
	// record's.
	BlobsTrusted int    `json:"blobs_trusted"`
	Statement    string `json:"statement"`
}

// Statement is what a run that trusted layers on ctime says of it.
const Statement = "Layers (and content blobs) marked trusted were not re-hashed: every entry of their trees has the same size, " +
	"mode, owner, inode, mtime and ctime (to the nanosecond) as when a full re-hash last passed. " +
	"That is sound because ctime is set only by the kernel, to the current time, on every change to a file's bytes, mode, owner, " +
	"links or xattrs: no system call sets it back, so a change made through the filesystem is seen and the layer re-hashed. " +
	"It does not cover writes that bypass the filesystem (the raw block device, a disk image edited offline, debugfs), " +
	"nor a change made while the clock was set back to reproduce the recorded ctime: --max-age bounds how long a layer " +
	"goes without a full re-hash."

// merge adds o's counts (another driver's store of the same root).
func (t *TrustReport) merge(o *TrustReport) {
	t.LayersTrusted += o.LayersTrusted
	t.LayersRehashed += o.LayersRehashed
	t.EntriesWalked += o.EntriesWalked
	t.BlobsTrusted += o.BlobsTrusted
	if o.Oldest != nil && (t.Oldest == nil || o.Oldest.Before(*t.Oldest)) {
		t.Oldest = o.Oldest
	}
}
