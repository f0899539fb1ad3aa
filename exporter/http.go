package exporter

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/dlayer/dlayer/report"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Paths the exporter serves.
const (
	PathMetrics     = "/metrics"
	PathHealth      = "/healthz"
	PathDU          = "/api/v1/du"
	PathVerify      = "/api/v1/verify"
	PathVerifyQuick = "/api/v1/verify/quick"
)

// Registry is a registry of the exporter's metrics and the process's own
// (Go runtime, process, build info), as /metrics serves them.
func (e *Exporter) Registry() (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{e, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector()} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// Handler serves the metrics, the health check and each scan's last JSON
// document. Nothing it serves starts a scan. landing, when set, serves /.
func (e *Exporter) Handler(reg *prometheus.Registry, landing http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+PathMetrics, promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: reg}))
	mux.HandleFunc("GET "+PathHealth, e.health)
	for path, scan := range map[string]report.Scan{PathDU: report.ScanDU, PathVerify: report.ScanVerify, PathVerifyQuick: report.ScanVerifyQuick} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) { e.document(w, scan) })
	}
	if landing != nil {
		mux.Handle("GET /{$}", landing)
	}
	return mux
}

// health answers 200 while the exporter serves, with each scan's state:
// a liveness check (a failing scan is a metric and an alert, not a
// reason to restart the pod).
func (e *Exporter) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
	for _, s := range e.Status() {
		state := "not run yet"
		switch {
		case s.Running:
			state = "running"
		case s.LastRun.IsZero():
		case s.OK:
			state = "ok, ended " + s.LastRun.UTC().Format(time.RFC3339)
		default:
			state = "failed " + s.LastRun.UTC().Format(time.RFC3339) + ": " + report.Escape(s.LastError)
		}
		fmt.Fprintf(w, "%s: %s (runs %d, errors %d)\n", s.Scan, state, s.Runs, s.Errors)
	}
}

// document serves the JSON document of scan's last completed run; 503,
// with a JSON error, before one has completed.
func (e *Exporter) document(w http.ResponseWriter, scan report.Scan) {
	w.Header().Set("Content-Type", "application/json")
	doc, ok := e.Document(scan)
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf("no %s scan has completed yet", scan)})
		return
	}
	w.Write(doc)
}
