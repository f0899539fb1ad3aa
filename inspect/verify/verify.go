package verify

import (
	"context"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/progress"
	"github.com/opencontainers/go-digest"
)

// ObjectType is what a finding is about.
type ObjectType string

// Object types a finding can be about.
const (
	ObjectLayer     ObjectType = "layer"     // Object is a chain ID ("sha256:…")
	ObjectImage     ObjectType = "image"     // Object is an image ID ("sha256:…")
	ObjectContainer ObjectType = "container" // Object is a container ID (64 hex)
	ObjectStore     ObjectType = "store"     // Object is empty: the store as a whole
	ObjectBlob      ObjectType = "blob"      // Object is a content blob's digest ("sha256:…")
)

// String returns the type as written in JSON.
func (t ObjectType) String() string { return string(t) }

// rank orders findings: the store, images, blobs, layers, containers.
func (t ObjectType) rank() int {
	switch t {
	case ObjectStore:
		return 0
	case ObjectImage:
		return 1
	case ObjectBlob:
		return 2
	case ObjectLayer:
		return 3
	case ObjectContainer:
		return 4
	}
	return 5
}

// Finding is one problem: a thing on disk that is not as Docker left it.
type Finding struct {
	Kind Kind `json:"kind"`
	// Check is the group of Kind: metadata, content or tree.
	Check Check `json:"check"`
	// DockerDetects says whether Docker's own check (rebuilding the layer's
	// tar stream on docker save or push) fails on this too.
	DockerDetects bool `json:"docker_detects"`
	// ObjectType is layer, image, container or store; Object its ID.
	ObjectType ObjectType `json:"object_type"`
	Object     string     `json:"object"`
	// Path is, for content and tree findings, the path inside the layer
	// ("/bin/busybox"; a tar-split name as written when it is unsafe); for
	// metadata findings the store file or dir concerned.
	Path string `json:"path,omitempty"`
	// File is the absolute path on disk, when there is one.
	File string `json:"file,omitempty"`
	// Expected and Actual are the values compared, as text.
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Message says what is wrong in words.
	Message string `json:"message"`
	// Affects lists what is built on the object: for a layer, the images
	// whose chain holds it and their containers; for an image, its tags and
	// containers.
	Affects Affects `json:"affects"`
}

// Affects names the images and containers that a finding touches.
type Affects struct {
	// Images are tags ("name:tag"), or image IDs for untagged images.
	Images []string `json:"images"`
	// Containers are container names.
	Containers []string `json:"containers"`
}

// Stats count what a run looked at.
type Stats struct {
	Images     int `json:"images"`
	Layers     int `json:"layers"`
	Containers int `json:"containers"`
	// LayersHashed counts layers whose tar stream was rebuilt in full and
	// hashed (0 with Quick).
	LayersHashed int `json:"layers_hashed"`
	// Entries counts the tar entries reconciled with the layer dirs.
	Entries int64 `json:"entries"`
	// BytesHashed is the size of all rebuilt tar streams.
	BytesHashed int64 `json:"bytes_hashed"`
	// Blobs counts the content store's blobs, for a store whose layers
	// come from content blobs (backend.BlobVerifier); BlobsHashed those
	// re-hashed in full against their digests (0 with Quick) and
	// BlobBytes their bytes.
	Blobs       int   `json:"blobs"`
	BlobsHashed int   `json:"blobs_hashed"`
	BlobBytes   int64 `json:"blob_bytes_hashed"`
}

// Report is the result of a run.
type Report struct {
	Root string `json:"root"`
	// Drivers are the storage drivers whose image stores were verified.
	Drivers  []string      `json:"drivers"`
	Quick    bool          `json:"quick"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"-"`
	Stats    Stats         `json:"stats"`
	Findings []Finding     `json:"findings"`
	// Complete is false when this process could not see everything the
	// checks need (Gaps say what and why): a run without findings has
	// then not shown the store sound.
	Complete bool          `json:"complete"`
	Gaps     []inspect.Gap `json:"gaps"`
	// Changed are the objects that changed while the store was read
	// (with Options.Recheck): information, not findings.
	Changed []Changed `json:"changed_during_scan,omitempty"`
	// Trust says, for a run with Options.Trust, what was trusted on the
	// state's records and what re-hashed; Next is the state to record for
	// the next run (nil without Options.Trust).
	Trust *TrustReport `json:"state,omitempty"`
	Next  *State       `json:"-"`
}

// Progress is a snapshot of a running content check.
type Progress struct {
	LayersDone, LayersTotal int
	Entries, BytesHashed    int64
	Elapsed                 time.Duration
}

// Options control Run.
type Options struct {
	// Quick runs the metadata checks only: no layer content is read.
	Quick bool
	// Jobs is how many layers are hashed at once; 0 means GOMAXPROCS.
	Jobs int
	// Readers is how many goroutines open and read files for all layers;
	// 0 means DefaultReaders().
	Readers int
	// ReadAhead bounds the bytes of file content read ahead of the hashers;
	// 0 means 64 MiB. Files over 1 MiB are streamed, not read ahead.
	ReadAhead int64
	// Progress, when set, is called about every ProgressEvery (default
	// 250ms) from another goroutine while layers are hashed.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Recheck re-reads the objects with findings, to tell what changed
	// during the scan from what is wrong; the zero value re-reads nothing.
	Recheck Recheck
	// Pace, when set, is told the bytes of content each read returned,
	// and may block: a budget on the read rate (dlayer serve
	// --read-rate). It must return at once when the run's context ends.
	Pace Pace
	// Trust, when set, re-hashes only the layers (and content blobs)
	// whose trees differ, by stat, from what an earlier run established
	// (Trust.Prev), and fills Report.Trust and Report.Next. Ignored with
	// Quick.
	Trust *Trust
}

// Pace is Options.Pace: called from the readers with the bytes one read
// returned, it may block to hold the run to a read rate.
type Pace func(n int)

// paced is r with every read told to pace (r itself when pace is nil).
func paced(r io.Reader, pace Pace) io.Reader {
	if pace == nil {
		return r
	}
	return pacedReader{r, pace}
}

type pacedReader struct {
	r    io.Reader
	pace Pace
}

func (p pacedReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.pace(n)
	}
	return n, err
}

// Run verifies the store. The error is for a store that cannot be
// verified at all (or ctx ending); every problem with one entry is a
// finding and the run goes on.
func Run(ctx context.Context, s *inspect.Store, opt Options) (*Report, error) {
	start := time.Now()
	r := &Report{Root: s.Root, Drivers: []string{s.Driver}, Quick: opt.Quick, Started: start.UTC(), Gaps: []inspect.Gap{}}
	r.Gaps = append(r.Gaps, s.Gaps()...)
	r.Complete = len(r.Gaps) == 0
	m, err := readModel(s)
	if err != nil {
		return nil, err
	}
	m.pace = opt.Pace
	m.checkMetadata()
	if opt.Trust != nil && !opt.Quick {
		m.trust = m.newTrust(*opt.Trust, start)
	}
	if !opt.Quick {
		if err := m.checkContent(ctx, opt, start); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Findings = m.finish()
	if len(opt.Recheck.Delays) > 0 {
		if r.Findings, r.Changed, err = m.recheck(ctx, opt.Recheck, r.Findings); err != nil {
			return nil, err
		}
	}
	r.Stats = m.stats
	if m.trust != nil {
		r.Trust, r.Next = &m.trust.report, m.nextState(r)
	}
	r.Duration = time.Since(start)
	return r, nil
}

// DefaultReaders is the size of the reader pool when Options.Readers is
// 0: 4×GOMAXPROCS, at least 64. Small-file opens, not hashing, dominate
// stores of many small files. On issue 16's engine store (1,000,000
// files, 2 CPUs) verify with 64 readers is 0.111 of docker save's time
// warm (0.120 with 8, another session); cold, 8 and 64 readers,
// interleaved, took the same time (78.4 and 77.7 s, 86.4 and 87.8 s) —
// what bounds verify cold is not the reads in flight, though the bare
// parallel read of the same files goes from 68 to 55 s with 64. Peak RSS
// 68 → 71 MB.
func DefaultReaders() int {
	return max(64, 4*runtime.GOMAXPROCS(0))
}

// checkContent rebuilds every layer that the metadata checks left
// readable, Jobs at a time, with one shared pool of readers.
func (m *model) checkContent(ctx context.Context, opt Options, start time.Time) error {
	jobs, readers, ahead := opt.Jobs, opt.Readers, opt.ReadAhead
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	if readers <= 0 {
		readers = DefaultReaders()
	}
	if ahead <= 0 {
		ahead = 64 << 20
	}
	var todo []*layerInfo
	for _, l := range m.layerList() {
		if l.contentReady() {
			todo = append(todo, l)
		}
	}
	if m.trust != nil {
		todo = m.split(todo, jobs)
	}
	p := newPool(readers, ahead)
	defer p.close()
	var done atomic.Int64
	stopProgress := m.progress(opt, start, &done, len(todo))
	defer stopProgress()

	next := make(chan *layerInfo)
	var wg sync.WaitGroup
	results := make([]layerResult, len(todo))
	index := map[*layerInfo]int{}
	for i, l := range todo {
		index[l] = i
	}
	for range min(jobs, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range next {
				results[index[l]] = m.checkLayer(ctx, p, l)
				done.Add(1)
			}
		}()
	}
	for _, l := range todo {
		select {
		case next <- l:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	hashed := map[digest.Digest]bool{}
	for _, res := range results {
		for _, f := range res.findings {
			if f.ObjectType == ObjectBlob && hashed[digest.Digest(f.Object)] {
				continue // another layer unpacked from the same blob said it
			}
			m.findings = append(m.findings, f)
		}
		m.stats.Entries += res.entries
		m.stats.BytesHashed += res.bytes
		if res.hashed {
			m.stats.LayersHashed++
		}
		if res.blob != "" && !hashed[res.blob] {
			hashed[res.blob] = true
			m.stats.BlobsHashed++
			m.stats.BlobBytes += res.blobBytes
			if !res.blobBad {
				m.recordBlob(res.blob)
			}
		}
	}
	if m.trust != nil {
		for i, l := range todo {
			m.recordLayer(l, results[i])
		}
	}
	return m.checkBlobContent(ctx, jobs, hashed)
}

// progress starts the Progress callback; the returned func stops it.
func (m *model) progress(opt Options, start time.Time, done *atomic.Int64, total int) func() {
	if opt.Progress == nil {
		return func() {}
	}
	return progress.Every(opt.ProgressEvery, func() {
		opt.Progress(Progress{LayersDone: int(done.Load()), LayersTotal: total,
			Entries: m.live.entries.Load(), BytesHashed: m.live.bytes.Load(), Elapsed: time.Since(start)})
	})
}

// Merge adds the findings and counts of o, a run on another driver's
// store of the same root, to r.
func (r *Report) Merge(o *Report) {
	r.Drivers = append(r.Drivers, o.Drivers...)
	r.Duration += o.Duration
	r.Stats.Images += o.Stats.Images
	r.Stats.Layers += o.Stats.Layers
	r.Stats.Containers += o.Stats.Containers
	r.Stats.LayersHashed += o.Stats.LayersHashed
	r.Stats.Entries += o.Stats.Entries
	r.Stats.BytesHashed += o.Stats.BytesHashed
	r.Stats.Blobs += o.Stats.Blobs
	r.Stats.BlobsHashed += o.Stats.BlobsHashed
	r.Stats.BlobBytes += o.Stats.BlobBytes
	r.Findings = append(r.Findings, o.Findings...)
	for _, g := range o.Gaps {
		if !slices.Contains(r.Gaps, g) {
			r.Gaps = append(r.Gaps, g)
		}
	}
	r.Complete = len(r.Gaps) == 0
	r.Changed = append(r.Changed, o.Changed...)
	if r.Trust != nil && o.Trust != nil {
		r.Trust.merge(o.Trust)
		r.Next.merge(o.Next)
	}
}
