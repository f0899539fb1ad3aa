// Package exporter is dlayer serve: it runs the scans (du, verify --quick,
// the full verify) on a schedule, one at a time, keeps the last completed
// result of each, and serves them — as Prometheus metrics at /metrics,
// and as each scan's JSON document at /api/v1/du and /api/v1/verify. A
// scrape never starts a scan: it reads what the last runs left.
package exporter

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/dlayer/dlayer/report"
	"github.com/prometheus/client_golang/prometheus"
)

// Result is what one completed scan left.
type Result struct {
	// DU is a du scan's report; Verify a verify scan's.
	DU     *du.Report
	Verify *verify.Report
	// Document is the scan's JSON, as dlayer du or verify --format json
	// writes it.
	Document []byte
}

// Job is one scan and how often it runs.
type Job struct {
	Scan report.Scan
	// Every is the time from the start of one run to the start of the
	// next; a run that takes longer is followed by the next at once.
	// 0 runs the scan once, at the start.
	Every time.Duration
	// Run scans the store once. An error means the scan could not
	// complete: its previous result stays exported.
	Run func(ctx context.Context) (Result, error)
}

// Config is the exporter's.
type Config struct {
	// Root is the data root (dlayer_store_info's label).
	Root string
	// TopImages is how many of the biggest images get series of their own.
	TopImages int
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Exporter runs the jobs and holds their last results. Its methods are
// safe for concurrent use.
type Exporter struct {
	cfg  Config
	jobs []Job

	mu     sync.Mutex
	status map[report.Scan]*report.ScanStatus
	last   map[report.Scan]Result
	// ran is closed and replaced each time a run ends (for Wait).
	ran chan struct{}
}

// New is an exporter of the jobs, none run yet.
func New(cfg Config, jobs ...Job) *Exporter {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Exporter{cfg: cfg, jobs: jobs, status: map[report.Scan]*report.ScanStatus{}, last: map[report.Scan]Result{}, ran: make(chan struct{})}
	for _, j := range jobs {
		e.status[j.Scan] = &report.ScanStatus{Scan: j.Scan, Counted: true}
	}
	return e
}

// Run runs the jobs until ctx ends: each once at the start, in order,
// then each when its time comes, one scan at a time (so that the scans'
// budget is the process's, never twice it). It returns ctx's error once
// the scan under way has stopped.
func (e *Exporter) Run(ctx context.Context) error {
	next := make([]time.Time, len(e.jobs))
	done := make([]bool, len(e.jobs))
	for {
		i := -1
		for k := range e.jobs {
			if done[k] {
				continue
			}
			if i < 0 || next[k].Before(next[i]) {
				i = k
			}
		}
		if i < 0 { // every job ran once and repeats never
			<-ctx.Done()
			return ctx.Err()
		}
		if wait := next[i].Sub(e.cfg.Now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		start := e.cfg.Now()
		e.runOne(ctx, e.jobs[i])
		if e.jobs[i].Every <= 0 {
			done[i] = true
		}
		next[i] = start.Add(e.jobs[i].Every)
	}
}

// runOne runs a job and records its outcome.
func (e *Exporter) runOne(ctx context.Context, j Job) {
	e.mu.Lock()
	e.status[j.Scan].Running = true
	e.mu.Unlock()
	start := e.cfg.Now()
	res, err := j.Run(ctx)
	end := e.cfg.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.status[j.Scan]
	st.Running = false
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return // stopped, not failed: nothing ended
	}
	st.Runs++
	st.LastRun, st.Duration = end, end.Sub(start)
	st.OK = err == nil
	if err != nil {
		st.Errors++
		st.LastError = err.Error()
	} else {
		st.LastError = ""
		st.LastSuccess = end
		e.last[j.Scan] = res
	}
	close(e.ran)
	e.ran = make(chan struct{})
}

// Ran returns a channel closed when the next run ends (for tests and
// for a caller waiting for the first results).
func (e *Exporter) Ran() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ran
}

// Metrics is a snapshot of what is exported now.
func (e *Exporter) Metrics() report.Metrics {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := report.Metrics{Root: e.cfg.Root, TopImages: e.cfg.TopImages,
		DU: e.last[report.ScanDU].DU, Quick: e.last[report.ScanVerifyQuick].Verify, Full: e.last[report.ScanVerify].Verify}
	for _, j := range e.jobs {
		m.Scans = append(m.Scans, *e.status[j.Scan])
	}
	return m
}

// Status is the status of every scan, in the jobs' order.
func (e *Exporter) Status() []report.ScanStatus { return e.Metrics().Scans }

// Document is the JSON the last completed run of scan left; ok is false
// when none has completed yet.
func (e *Exporter) Document(scan report.Scan) (doc []byte, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.last[scan]
	return r.Document, ok && r.Document != nil
}

// Describe is prometheus.Collector's.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) { report.DescribeMetrics(ch) }

// Collect is prometheus.Collector's: the last results, at once.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) { e.Metrics().Collect(ch) }
