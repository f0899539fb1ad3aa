package verify

import (
	"time"

	"github.com/opencontainers/go-digest"
)

// trustState is a run's use of Options.Trust: what it found recorded,
// the prints it took before hashing anything, and what it will record.
type trustState struct {
	opt    Trust
	start  time.Time
	layers map[layerKey]LayerRecord
	blobs  map[digest.Digest]BlobRecord
	prints map[*layerInfo]treePrint
	// blobStats are the content blobs' stat sums, taken before any blob
	// is read.
	blobStats map[digest.Digest]string
	report    TrustReport
	next      State
}

// newTrust indexes the records of t.Prev that are this store's.
func (m *model) newTrust(t Trust, start time.Time) *trustState {
	ts := &trustState{opt: t, start: start, layers: map[layerKey]LayerRecord{}, blobs: map[digest.Digest]BlobRecord{},
		report: TrustReport{Statement: Statement}}
	if t.Prev != nil {
		w := t.Prev.Written
		ts.report.RecordedAt = &w
		for _, r := range t.Prev.Layers {
			ts.layers[layerKey{r.Driver, r.CacheID, r.ChainID, r.DiffID}] = r
		}
		for _, b := range t.Prev.Blobs {
			ts.blobs[b.Digest] = b
		}
	}
	return ts
}

// key is the record key of layer l.
func (m *model) key(l *layerInfo) layerKey {
	return layerKey{string(m.graph.Name()), l.CacheID, l.ChainID, l.trusted}
}

// fresh says whether a record's re-hash is recent enough to be trusted.
func (ts *trustState) fresh(hashed time.Time) bool {
	return !hashed.Before(ts.opt.NotBefore)
}

// noteOldest keeps the oldest re-hash trusted.
func (ts *trustState) noteOldest(t time.Time) {
	if ts.report.Oldest == nil || t.Before(*ts.report.Oldest) {
		ts.report.Oldest = &t
	}
}

// split stat-walks the layers and returns those to re-hash: no record,
// too old, or a tree that differs from the record. The others are
// trusted: their records are carried into the next state.
func (m *model) split(todo []*layerInfo, jobs int) []*layerInfo {
	ts := m.trust
	if m.bv != nil {
		ts.blobStats = map[digest.Digest]string{}
		for _, b := range m.blobs {
			if st, err := m.fileStat(b.Path); err == nil && !m.badBlobs[b.Digest] {
				ts.blobStats[b.Digest] = statSum(st)
			}
		}
	}
	ts.prints = m.fingerprints(todo, jobs)
	var rehash []*layerInfo
	for _, l := range todo {
		p := ts.prints[l]
		ts.report.EntriesWalked += p.entries
		r, ok := ts.layers[m.key(l)]
		if ok && p.err == nil && r.Entries == p.entries && r.Tree == p.sum && ts.fresh(r.Hashed) {
			ts.report.LayersTrusted++
			ts.noteOldest(r.Hashed)
			ts.next.Layers = append(ts.next.Layers, r)
			continue
		}
		ts.report.LayersRehashed++
		rehash = append(rehash, l)
	}
	return rehash
}

// recordLayer records a layer whose full re-hash passed, with the print
// taken before it was read: a change made while it was read makes the
// next run re-hash it again.
func (m *model) recordLayer(l *layerInfo, res layerResult) {
	ts := m.trust
	p := ts.prints[l]
	if !res.hashed || len(res.findings) > 0 || p.err != nil {
		return
	}
	k := m.key(l)
	ts.next.Layers = append(ts.next.Layers, LayerRecord{Driver: k.driver, ChainID: k.chainID, CacheID: k.cacheID, DiffID: k.diffID,
		Entries: p.entries, Tree: p.sum, Hashed: ts.start.UTC()})
}

// trustBlob says whether blob d need not be re-hashed: its stat is the
// record's, and the record fresh; it is then carried into the next state.
func (m *model) trustBlob(d digest.Digest) bool {
	ts := m.trust
	if ts == nil {
		return false
	}
	r, ok := ts.blobs[d]
	st, seen := ts.blobStats[d]
	if !ok || !seen || r.Stat != st || !ts.fresh(r.Hashed) {
		return false
	}
	ts.report.BlobsTrusted++
	ts.noteOldest(r.Hashed)
	ts.next.Blobs = append(ts.next.Blobs, r)
	return true
}

// recordBlob records a blob re-hashed in full that matched its digest.
func (m *model) recordBlob(d digest.Digest) {
	ts := m.trust
	if ts == nil {
		return
	}
	if st, ok := ts.blobStats[d]; ok {
		ts.next.Blobs = append(ts.next.Blobs, BlobRecord{Digest: d, Stat: st, Hashed: ts.start.UTC()})
	}
}

// nextState is the state to record: the records of this run whose
// objects have no finding and did not change during the scan, none at
// all when the run could not see everything.
func (m *model) nextState(r *Report) *State {
	ts := m.trust
	next := &State{Format: StateFormat, Version: StateVersion, Root: m.s.Root, Written: time.Now().UTC(),
		Layers: []LayerRecord{}}
	if !r.Complete {
		return next
	}
	bad := map[string]bool{}
	for _, f := range r.Findings {
		bad[f.Object] = true
	}
	for _, c := range r.Changed {
		bad[c.Object] = true
	}
	for _, l := range ts.next.Layers {
		if !bad[l.ChainID.String()] {
			next.Layers = append(next.Layers, l)
		}
	}
	for _, b := range ts.next.Blobs {
		if !bad[b.Digest.String()] {
			next.Blobs = append(next.Blobs, b)
		}
	}
	return next
}
