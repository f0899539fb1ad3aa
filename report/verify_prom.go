package report

import (
	"io"
	"time"

	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// VerifyMetrics is what one `dlayer verify --prom` run exports.
type VerifyMetrics struct {
	// Report is the run's result; nil when the run could not complete.
	Report *verify.Report
	// Quick is set for a --quick run (the scan verify_quick).
	Quick bool
	// Root is the data root verified.
	Root string
	// Now is when the run ended.
	Now time.Time
	// LastSuccess is the end of the last run that completed (Now when
	// Report is set; carried over from the previous file otherwise).
	LastSuccess time.Time
	// Duration of this run; Err why it could not complete.
	Duration time.Duration
	Err      error
}

// Scan is the scan the run was.
func (m VerifyMetrics) Scan() Scan {
	if m.Quick {
		return ScanVerifyQuick
	}
	return ScanVerify
}

// VerifyProm writes the metrics in the Prometheus text exposition format,
// for node_exporter's textfile collector: the same families dlayer serve
// exports (Metrics), for one run. Every kind has a findings series, 0
// when absent, so that alert rules never see gaps.
func VerifyProm(w io.Writer, m VerifyMetrics) error {
	st := ScanStatus{Scan: m.Scan(), OK: m.Report != nil, LastRun: m.Now, LastSuccess: m.LastSuccess, Duration: m.Duration}
	if m.Err != nil {
		st.LastError = m.Err.Error()
	}
	all := Metrics{Root: m.Root, Scans: []ScanStatus{st}}
	if m.Quick {
		all.Quick = m.Report
	} else {
		all.Full = m.Report
	}
	return WriteMetrics(w, all)
}

// LastSuccess reads dlayer_scan_last_success_timestamp_seconds of scan
// from a previous metrics file, so that a run that could not complete
// keeps it. A file that does not parse has none.
func LastSuccess(r io.Reader, scan Scan) (time.Time, bool) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return time.Time{}, false
	}
	f := fams[mScanLastSuccess.name]
	if f == nil {
		return time.Time{}, false
	}
	for _, s := range f.GetMetric() {
		for _, l := range s.GetLabel() {
			if l.GetName() == "scan" && l.GetValue() == string(scan) {
				v := s.GetGauge().GetValue()
				if s.Untyped != nil { // a file without TYPE lines
					v = s.GetUntyped().GetValue()
				}
				if v <= 0 {
					return time.Time{}, false
				}
				sec := int64(v)
				return time.Unix(sec, int64((v-float64(sec))*1e9)), true
			}
		}
	}
	return time.Time{}, false
}
