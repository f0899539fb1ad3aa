package exporter

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/clitest"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/report"
)

// scrape gets /metrics from h and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*clitest.PromFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", PathMetrics, nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return clitest.ParsePromText(t, rec.Body.Bytes())
}

// value is the value of name's series with the labels (a subset).
func value(t *testing.T, fams map[string]*clitest.PromFamily, name string, labels map[string]string) float64 {
	t.Helper()
	if fams[name] == nil {
		t.Fatalf("no %s in the scrape", name)
	}
	return clitest.GaugeValue(fams, name, labels)
}

func duReport(images int64) *du.Report {
	r := &du.Report{Driver: "overlay2"}
	r.Summary.Images = du.Group{Count: 1, Usage: du.Usage{Size: images, DiskUsage: images + 4096}}
	r.Summary.Total = du.Usage{Size: images, DiskUsage: images + 8192}
	return r
}

// TestScrapeDuringScan: a scrape while a scan runs answers at once with
// the previous results (the scan is held until the scrape has returned:
// a scrape that waited for it would never return), and says the scan is
// running; the next results replace them when it ends.
func TestScrapeDuringScan(t *testing.T) {
	release := make(chan struct{})
	runs := 0
	e := New(Config{Root: "/var/lib/docker"}, Job{Scan: report.ScanDU, Every: time.Millisecond, Run: func(ctx context.Context) (Result, error) {
		runs++
		if runs == 1 {
			return Result{DU: duReport(1000), Document: []byte(`{"run":1}`)}, nil
		}
		select {
		case <-release:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
		return Result{DU: duReport(2000), Document: []byte(`{"run":2}`)}, nil
	}})
	reg, err := e.Registry()
	if err != nil {
		t.Fatal(err)
	}
	h := e.Handler(reg, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	first := e.Ran()
	stopped := make(chan error, 1)
	go func() { stopped <- e.Run(ctx) }()
	<-first
	second := e.Ran()
	// wait until the second run is under way (it cannot end: held)
	for !e.Status()[0].Running {
		time.Sleep(time.Millisecond)
	}
	fams := scrape(t, h)
	if v := value(t, fams, "dlayer_du_size_bytes", map[string]string{"owner": "images"}); v != 1000 {
		t.Errorf("during the second scan: images %v bytes, want the first scan's 1000", v)
	}
	if v := value(t, fams, "dlayer_scan_running", map[string]string{"scan": "du"}); v != 1 {
		t.Errorf("dlayer_scan_running %v during a scan", v)
	}
	if v := value(t, fams, "dlayer_scan_runs_total", map[string]string{"scan": "du"}); v != 1 {
		t.Errorf("dlayer_scan_runs_total %v, want 1", v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", PathDU, nil))
	if rec.Code != 200 || rec.Body.String() != `{"run":1}` {
		t.Errorf("GET %s during the second scan: %d %q", PathDU, rec.Code, rec.Body)
	}
	close(release)
	<-second
	fams = scrape(t, h)
	if v := value(t, fams, "dlayer_du_size_bytes", map[string]string{"owner": "images"}); v != 2000 {
		t.Errorf("after the second scan: images %v bytes, want 2000", v)
	}
	cancel()
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel: %v", err)
	}
}

// TestFailedScanKeepsResults: a scan that cannot complete counts an
// error, sets success 0 and keeps the last results and their time.
func TestFailedScanKeepsResults(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	fail := false
	j := Job{Scan: report.ScanDU, Run: func(context.Context) (Result, error) {
		if fail {
			return Result{}, errors.New("/x/overlay2: permission denied")
		}
		return Result{DU: duReport(10), Document: []byte("{}")}, nil
	}}
	e := New(Config{Now: func() time.Time { return now }}, j)
	e.runOne(t.Context(), j)
	now, fail = now.Add(time.Minute), true
	e.runOne(t.Context(), j)
	reg, _ := e.Registry()
	h := e.Handler(reg, nil)
	fams := scrape(t, h)
	for name, want := range map[string]float64{"dlayer_scan_success": 0, "dlayer_scan_errors_total": 1, "dlayer_scan_runs_total": 2,
		"dlayer_scan_last_success_timestamp_seconds": 1_800_000_000, "dlayer_scan_last_run_timestamp_seconds": 1_800_000_060} {
		if v := value(t, fams, name, map[string]string{"scan": "du"}); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if v := value(t, fams, "dlayer_du_size_bytes", map[string]string{"owner": "images"}); v != 10 {
		t.Errorf("the first scan's results are gone: %v", v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", PathHealth, nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !strings.Contains(string(body), "du: failed") || !strings.Contains(string(body), "permission denied") {
		t.Errorf("GET /healthz: %d %q", rec.Code, body)
	}
}

// TestNoResultsYet: before a scan completes, its document is a 503 with
// a JSON error, and no series of its results is exported (not zeros).
func TestNoResultsYet(t *testing.T) {
	e := New(Config{}, Job{Scan: report.ScanDU, Run: func(context.Context) (Result, error) { return Result{}, nil }},
		Job{Scan: report.ScanVerify, Run: func(context.Context) (Result, error) { return Result{}, nil }})
	reg, _ := e.Registry()
	h := e.Handler(reg, nil)
	for _, p := range []string{PathDU, PathVerify} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("GET %s before any scan: %d %q", p, rec.Code, rec.Body)
		}
	}
	fams := scrape(t, h)
	for _, name := range []string{"dlayer_du_size_bytes", "dlayer_verify_findings", "dlayer_scan_success"} {
		if fams[name] != nil {
			t.Errorf("%s exported before any scan ended", name)
		}
	}
	if v := value(t, fams, "dlayer_scan_runs_total", map[string]string{"scan": "verify"}); v != 0 {
		t.Errorf("runs %v before any", v)
	}
}

// TestMetricNamesFollowConventions pins the names' form: snake_case under
// dlayer_, counters end in _total and nothing else does, units are
// suffixes.
func TestMetricNamesFollowConventions(t *testing.T) {
	for _, n := range report.MetricNames() {
		if !strings.HasPrefix(n, "dlayer_") || strings.ToLower(n) != n {
			t.Errorf("%s: want dlayer_ and snake_case", n)
		}
		if strings.Contains(n, "bytes_") || strings.Contains(n, "seconds_") && !strings.HasSuffix(n, "_timestamp_seconds") {
			t.Errorf("%s: a unit is a suffix", n)
		}
	}
}
