package report

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect/verify"
)

// VerifyMetrics is what one `dlayer verify --prom` run exports.
type VerifyMetrics struct {
	// Report is the run's result; nil when the run could not complete.
	Report *verify.Report
	// Root is the data root verified (the label of every series).
	Root string
	// Now is when the run ended.
	Now time.Time
	// LastSuccess is the end of the last run that completed (Now when
	// Report is set; carried over from the previous file otherwise).
	LastSuccess time.Time
	// Duration of this run.
	Duration time.Duration
}

// VerifyProm writes the metrics in the Prometheus text exposition format
// (version 0.0.4), for node_exporter's textfile collector. Every kind has
// a findings series, 0 when absent, so that alert rules never see gaps.
func VerifyProm(w io.Writer, m VerifyMetrics) error {
	p := &printer{w: w}
	root := `root="` + promLabel(m.Root) + `"`
	gauge := func(name, help string, v float64, labels string) {
		p.f("# HELP %s %s\n# TYPE %s gauge\n%s{%s} %s\n", name, help, name, name, labels, promFloat(v))
	}
	ok := 0.0
	if m.Report != nil {
		ok = 1
		byKind := map[verify.Kind]int{}
		for _, f := range m.Report.Findings {
			byKind[f.Kind]++
		}
		p.f("# HELP dlayer_verify_findings Findings of the last completed dlayer verify run, by kind.\n# TYPE dlayer_verify_findings gauge\n")
		for _, k := range verify.Kinds() {
			if m.Report.Quick && k.Check() != verify.CheckMetadata {
				continue
			}
			p.f("dlayer_verify_findings{%s,check=\"%s\",kind=\"%s\"} %d\n", root, k.Check(), k, byKind[k])
		}
		s := m.Report.Stats
		quick := 0.0
		if m.Report.Quick {
			quick = 1
		}
		gauge("dlayer_verify_quick", "1 when the last run checked metadata only (--quick).", quick, root)
		complete := 0.0
		if m.Report.Complete {
			complete = 1
		}
		gauge("dlayer_verify_complete", "1 when the last run could see everything it checks; 0 when it could not (e.g. no CAP_SYS_ADMIN for trusted.* xattrs): not a pass.", complete, root)
		gauge("dlayer_verify_images_checked", "Images (imagedb configs) checked.", float64(s.Images), root)
		gauge("dlayer_verify_layers_checked", "Layers (layerdb entries) checked.", float64(s.Layers), root)
		gauge("dlayer_verify_layers_hashed", "Layers whose tar stream was rebuilt and hashed.", float64(s.LayersHashed), root)
		gauge("dlayer_verify_containers_checked", "Containers checked.", float64(s.Containers), root)
		gauge("dlayer_verify_entries_checked", "Tar entries reconciled with the layer dirs.", float64(s.Entries), root)
		gauge("dlayer_verify_bytes_hashed", "Bytes of rebuilt tar streams hashed.", float64(s.BytesHashed), root)
		gauge("dlayer_verify_blobs_checked", "Content store blobs checked (a store whose layers come from content blobs: containerd's image store).", float64(s.Blobs), root)
		gauge("dlayer_verify_blobs_hashed", "Content store blobs re-hashed in full against their digests.", float64(s.BlobsHashed), root)
		gauge("dlayer_verify_changed_during_scan", "Objects that changed while the last run read the store: re-read once settled, not findings.",
			float64(len(m.Report.Changed)), root)
	}
	gauge("dlayer_verify_success", "1 when the last run completed (with or without findings), 0 when it could not run.", ok, root)
	gauge("dlayer_verify_duration_seconds", "Duration of the last run.", m.Duration.Seconds(), root)
	gauge("dlayer_verify_last_run_timestamp_seconds", "When the last run ended, in Unix seconds.", unixSeconds(m.Now), root)
	if !m.LastSuccess.IsZero() {
		gauge("dlayer_verify_last_success_timestamp_seconds", "When the last completed run ended, in Unix seconds.", unixSeconds(m.LastSuccess), root)
	}
	return p.err
}

// LastVerifySuccess reads dlayer_verify_last_success_timestamp_seconds
// from a previous metrics file, so a run that could not complete keeps it.
func LastVerifySuccess(r io.Reader) (time.Time, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "dlayer_verify_last_success_timestamp_seconds") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil || v <= 0 {
			return time.Time{}, false
		}
		sec := int64(v)
		return time.Unix(sec, int64((v-float64(sec))*1e9)), true
	}
	return time.Time{}, false
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func promFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// promLabel escapes a label value: backslash, double quote and newline.
func promLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(strings.ToValidUTF8(s, "\uFFFD"))
}
