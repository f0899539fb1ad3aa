package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Scan names one of the scans whose results are exported: the scan
// label of every metric about it.
type Scan string

// The scans: dlayer du, dlayer verify --quick, and the full dlayer verify.
const (
	ScanDU          Scan = "du"
	ScanVerifyQuick Scan = "verify_quick"
	ScanVerify      Scan = "verify"
)

// Scans lists every scan, in the order dlayer serve runs them first.
func Scans() []Scan { return []Scan{ScanDU, ScanVerifyQuick, ScanVerify} }

// ScanStatus is what is known of one scan's runs.
type ScanStatus struct {
	Scan Scan
	// Counted is set when Runs and Errors count the runs of a process
	// that keeps running (dlayer serve); a one-shot textfile has none.
	Counted bool
	// Runs counts the runs that ended, Errors those that could not
	// complete.
	Runs, Errors int64
	// Running is set while a run is under way.
	Running bool
	// OK is set when the last run that ended completed.
	OK bool
	// LastRun is when the last run ended; LastSuccess when the last
	// completed run did (zero: none yet). Duration is the last run's.
	LastRun, LastSuccess time.Time
	Duration             time.Duration
	// LastError is why the last run could not complete ("" when it did).
	LastError string
}

// Metrics is everything exported at one moment: the last completed
// result of each scan and the scans' status. A nil result exports none of
// its series (there is nothing to say yet), never a zero.
type Metrics struct {
	// Root is the data root (dlayer_store_info's only label value beyond
	// the driver: no other series carries a path).
	Root  string
	DU    *du.Report
	Quick *verify.Report
	Full  *verify.Report
	Scans []ScanStatus
	// TopImages is how many images (the biggest by size) get series of
	// their own, labelled with their first tag or short ID.
	TopImages int
}

// metric is one exported series family: its name, help and labels.
type metric struct {
	name string
	desc *prometheus.Desc
	kind prometheus.ValueType
}

func newMetric(name, help string, kind prometheus.ValueType, labels ...string) metric {
	return metric{name, prometheus.NewDesc(name, help, labels, nil), kind}
}

// The families. Names follow Prometheus' conventions: a unit suffix
// (_bytes, _seconds, _timestamp_seconds), _total on counters; labels are
// bounded (scan, driver, owner kind, finding kind and check, share, and
// the references of the top images).
var (
	mStoreInfo = newMetric("dlayer_store_info", "The data root audited and its storage drivers (always 1; with du's results).", prometheus.GaugeValue, "root", "driver")

	mScanRuns        = newMetric("dlayer_scan_runs_total", "Scans run since the exporter started, that ended.", prometheus.CounterValue, "scan")
	mScanErrors      = newMetric("dlayer_scan_errors_total", "Scans since the exporter started that could not complete.", prometheus.CounterValue, "scan")
	mScanRunning     = newMetric("dlayer_scan_running", "1 while the scan runs.", prometheus.GaugeValue, "scan")
	mScanSuccess     = newMetric("dlayer_scan_success", "1 when the last run of the scan completed (with or without findings), 0 when it could not.", prometheus.GaugeValue, "scan")
	mScanDuration    = newMetric("dlayer_scan_duration_seconds", "Duration of the last run of the scan.", prometheus.GaugeValue, "scan")
	mScanLastRun     = newMetric("dlayer_scan_last_run_timestamp_seconds", "When the last run of the scan ended, in Unix seconds.", prometheus.GaugeValue, "scan")
	mScanLastSuccess = newMetric("dlayer_scan_last_success_timestamp_seconds", "When the last completed run of the scan ended, in Unix seconds.", prometheus.GaugeValue, "scan")

	mDUSize          = newMetric("dlayer_du_size_bytes", "Docker's content size (docker system df's) of each kind of owner.", prometheus.GaugeValue, "driver", "owner")
	mDUDisk          = newMetric("dlayer_du_disk_usage_bytes", "Allocated bytes of each kind of owner, each inode counted once (du -x's).", prometheus.GaugeValue, "driver", "owner")
	mDUReclaimSize   = newMetric("dlayer_du_reclaimable_size_bytes", "Content size that removing dangling images, stopped containers and orphans would free, by owner kind.", prometheus.GaugeValue, "driver", "owner")
	mDUReclaimDisk   = newMetric("dlayer_du_reclaimable_disk_usage_bytes", "Allocated bytes that removing dangling images, stopped containers and orphans would free, by owner kind.", prometheus.GaugeValue, "driver", "owner")
	mDUOwners        = newMetric("dlayer_du_owners", "Owners of each kind (images docker system df lists, containers, orphan dirs, ...).", prometheus.GaugeValue, "driver", "owner")
	mDUActive        = newMetric("dlayer_du_owners_active", "Owners in use: images a container uses, containers running.", prometheus.GaugeValue, "driver", "owner")
	mDUTotalSize     = newMetric("dlayer_du_total_size_bytes", "Content size of everything audited.", prometheus.GaugeValue, "driver")
	mDUTotalDisk     = newMetric("dlayer_du_total_disk_usage_bytes", "Allocated bytes of everything audited (du -sx of the data root, and of the store's own tree).", prometheus.GaugeValue, "driver")
	mDUFiles         = newMetric("dlayer_du_files", "Entries the audit walked.", prometheus.GaugeValue, "driver")
	mDUMissing       = newMetric("dlayer_du_missing_dirs", "Layer dirs a record names that are gone: an image layer's, a container's rw or init layer's.", prometheus.GaugeValue, "driver", "role")
	mDUFindings      = newMetric("dlayer_du_findings", "Problems the audit listed, by kind (only the kinds found).", prometheus.GaugeValue, "driver", "kind")
	mDUImageSize     = newMetric("dlayer_du_image_size_bytes", "Docker's size of the biggest images: total, and the parts shared with another image and unique to it.", prometheus.GaugeValue, "driver", "image", "share")
	mDUImageDisk     = newMetric("dlayer_du_image_disk_usage_bytes", "Allocated bytes of the biggest images' layer dirs: total, and unique (what removing the image alone would free).", prometheus.GaugeValue, "driver", "image", "share")
	mVerifyFindings  = newMetric("dlayer_verify_findings", "Findings of the last completed verify run, by kind; every kind the run checks has a series, 0 when absent.", prometheus.GaugeValue, "scan", "check", "kind")
	mVerifyComplete  = newMetric("dlayer_verify_complete", "1 when the last run could see everything it checks; 0 when it could not (e.g. no CAP_SYS_ADMIN for trusted.* xattrs): not a pass.", prometheus.GaugeValue, "scan")
	mVerifyImages    = newMetric("dlayer_verify_images_checked", "Images (image configs) checked.", prometheus.GaugeValue, "scan")
	mVerifyLayers    = newMetric("dlayer_verify_layers_checked", "Layers checked.", prometheus.GaugeValue, "scan")
	mVerifyHashed    = newMetric("dlayer_verify_layers_hashed", "Layers whose tar stream was rebuilt and hashed.", prometheus.GaugeValue, "scan")
	mVerifyCtrs      = newMetric("dlayer_verify_containers_checked", "Containers checked.", prometheus.GaugeValue, "scan")
	mVerifyEntries   = newMetric("dlayer_verify_entries_checked", "Tar entries reconciled with the layer dirs.", prometheus.GaugeValue, "scan")
	mVerifyBytes     = newMetric("dlayer_verify_hashed_bytes", "Bytes of rebuilt tar streams hashed (was dlayer_verify_bytes_hashed).", prometheus.GaugeValue, "scan")
	mVerifyBlobs     = newMetric("dlayer_verify_blobs_checked", "Content store blobs checked (containerd's image store).", prometheus.GaugeValue, "scan")
	mVerifyBlobsHash = newMetric("dlayer_verify_blobs_hashed", "Content store blobs re-hashed in full against their digests.", prometheus.GaugeValue, "scan")
	mVerifyChanged   = newMetric("dlayer_verify_changed_during_scan", "Objects that changed while the run read the store: re-read once settled, not findings.", prometheus.GaugeValue, "scan")
	mVerifyTrusted   = newMetric("dlayer_verify_layers_trusted", "Layers not re-hashed because their trees matched the --state record by stat (trusted on ctime).", prometheus.GaugeValue, "scan")
)

// families lists every family, for Describe.
func families() []metric {
	return []metric{mStoreInfo, mScanRuns, mScanErrors, mScanRunning, mScanSuccess, mScanDuration, mScanLastRun, mScanLastSuccess,
		mDUSize, mDUDisk, mDUReclaimSize, mDUReclaimDisk, mDUOwners, mDUActive, mDUTotalSize, mDUTotalDisk, mDUFiles, mDUMissing,
		mDUFindings, mDUImageSize, mDUImageDisk, mVerifyFindings, mVerifyComplete, mVerifyImages, mVerifyLayers, mVerifyHashed,
		mVerifyCtrs, mVerifyEntries, mVerifyBytes, mVerifyBlobs, mVerifyBlobsHash, mVerifyChanged, mVerifyTrusted}
}

// MetricNames are the names of every family dlayer exports, sorted: what
// alert rules and dashboards may name.
func MetricNames() []string {
	var names []string
	for _, m := range families() {
		names = append(names, m.name)
	}
	slices.Sort(names)
	return names
}

// DescribeMetrics sends every family's description: a
// prometheus.Collector's Describe.
func DescribeMetrics(ch chan<- *prometheus.Desc) {
	for _, m := range families() {
		ch <- m.desc
	}
}

// Collect sends the series of m: a prometheus.Collector's Collect.
func (m Metrics) Collect(ch chan<- prometheus.Metric) {
	send := func(f metric, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(f.desc, f.kind, v, labels...)
	}
	for _, s := range m.Scans {
		scan := string(s.Scan)
		if s.Counted {
			send(mScanRuns, float64(s.Runs), scan)
			send(mScanErrors, float64(s.Errors), scan)
			send(mScanRunning, b2f(s.Running), scan)
		}
		if s.LastRun.IsZero() {
			continue // nothing ended yet
		}
		send(mScanSuccess, b2f(s.OK), scan)
		send(mScanDuration, s.Duration.Seconds(), scan)
		send(mScanLastRun, unixSeconds(s.LastRun), scan)
		if !s.LastSuccess.IsZero() {
			send(mScanLastSuccess, unixSeconds(s.LastSuccess), scan)
		}
	}
	if m.DU != nil {
		send(mStoreInfo, 1, labelValue(m.Root), m.DU.Driver)
		duMetrics(m.DU, m.TopImages, send)
		for _, o := range m.DU.OtherStores {
			duMetrics(o, m.TopImages, send)
		}
	}
	verifyMetrics(ScanVerifyQuick, m.Quick, send)
	verifyMetrics(ScanVerify, m.Full, send)
}

// ownerGroups are the summary's lines, by the owner label they export.
func ownerGroups(s *du.Summary) []struct {
	owner string
	g     du.Group
} {
	return []struct {
		owner string
		g     du.Group
	}{
		{"images", s.Images}, {"containers", s.Containers}, {"container_dirs", s.ContainerDirs}, {"build_cache", s.BuildCache},
		{"orphans", s.Orphans}, {"bookkeeping", s.Bookkeeping}, {"inactive_driver", s.InactiveDriver}, {"other", s.Other},
		{"content", s.Content}, {"ingest", s.Ingest}, {"stack_dirs", s.StackDirs},
	}
}

func duMetrics(r *du.Report, top int, send func(metric, float64, ...string)) {
	d := r.Driver
	for _, o := range ownerGroups(&r.Summary) {
		send(mDUSize, float64(o.g.Size), d, o.owner)
		send(mDUDisk, float64(o.g.DiskUsage), d, o.owner)
		send(mDUReclaimSize, float64(o.g.Reclaimable.Size), d, o.owner)
		send(mDUReclaimDisk, float64(o.g.Reclaimable.DiskUsage), d, o.owner)
		send(mDUOwners, float64(o.g.Count), d, o.owner)
		send(mDUActive, float64(o.g.Active), d, o.owner)
	}
	send(mDUTotalSize, float64(r.Summary.Total.Size), d)
	send(mDUTotalDisk, float64(r.Summary.Total.DiskUsage), d)
	send(mDUFiles, float64(r.Summary.Files), d)
	var layers, rw, init int
	for _, l := range r.Layers {
		if l.Missing {
			layers++
		}
	}
	for _, c := range r.Containers {
		if c.RWMissing {
			rw++
		}
		if c.InitMissing {
			init++
		}
	}
	send(mDUMissing, float64(layers), d, "layer")
	send(mDUMissing, float64(rw), d, "rw")
	send(mDUMissing, float64(init), d, "init")
	kinds := map[string]int{}
	for _, f := range r.Findings {
		kinds[f.Kind.String()]++
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		send(mDUFindings, float64(kinds[k]), d, labelValue(k))
	}
	seen := map[string]bool{}
	for _, im := range topImages(r.Images, top) {
		ref := imageRef(im)
		if seen[ref] { // two refs alike once cut (or crafted so): the ID tells them apart
			ref = labelValue(im.ID.String())
		}
		seen[ref] = true
		send(mDUImageSize, float64(im.Size), d, ref, "total")
		send(mDUImageSize, float64(im.SharedSize), d, ref, "shared")
		send(mDUImageSize, float64(im.UniqueSize), d, ref, "unique")
		send(mDUImageDisk, float64(im.DiskUsage), d, ref, "total")
		send(mDUImageDisk, float64(im.UniqueDiskUsage), d, ref, "unique")
	}
}

// topImages are the n biggest images docker system df lists, by size
// (ties by ID).
func topImages(ims []du.Image, n int) []du.Image {
	var counted []du.Image
	for _, im := range ims {
		if im.Counted {
			counted = append(counted, im)
		}
	}
	slices.SortFunc(counted, func(a, b du.Image) int {
		return cmp.Or(cmp.Compare(b.Size, a.Size), cmp.Compare(a.ID, b.ID))
	})
	return counted[:min(max(n, 0), len(counted))]
}

// imageRef is an image's label: its first tag, or its short ID. A tag
// comes from repositories.json, which the evidence controls: it is made
// valid UTF-8 and cut to refMax bytes.
func imageRef(im du.Image) string {
	if len(im.Tags) > 0 {
		return labelValue(im.Tags[0])
	}
	return labelValue(short(im.ID))
}

// refMax bounds a label value taken from the store.
const refMax = 200

func labelValue(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > refMax {
		s = strings.ToValidUTF8(s[:refMax], "") + "…"
	}
	return s
}

func verifyMetrics(scan Scan, r *verify.Report, send func(metric, float64, ...string)) {
	if r == nil {
		return
	}
	sc := string(scan)
	byKind := map[verify.Kind]int{}
	for _, f := range r.Findings {
		byKind[f.Kind]++
	}
	for _, k := range verify.Kinds() {
		if r.Quick && k.Check() != verify.CheckMetadata {
			continue
		}
		send(mVerifyFindings, float64(byKind[k]), sc, k.Check().String(), k.String())
	}
	s := r.Stats
	send(mVerifyComplete, b2f(r.Complete), sc)
	send(mVerifyImages, float64(s.Images), sc)
	send(mVerifyLayers, float64(s.Layers), sc)
	send(mVerifyHashed, float64(s.LayersHashed), sc)
	send(mVerifyCtrs, float64(s.Containers), sc)
	send(mVerifyEntries, float64(s.Entries), sc)
	send(mVerifyBytes, float64(s.BytesHashed), sc)
	send(mVerifyBlobs, float64(s.Blobs), sc)
	send(mVerifyBlobsHash, float64(s.BlobsHashed), sc)
	send(mVerifyChanged, float64(len(r.Changed)), sc)
	if r.Trust != nil {
		send(mVerifyTrusted, float64(r.Trust.LayersTrusted), sc)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// metricsCollector is m as a prometheus.Collector.
type metricsCollector struct{ m Metrics }

func (c metricsCollector) Describe(ch chan<- *prometheus.Desc) { DescribeMetrics(ch) }
func (c metricsCollector) Collect(ch chan<- prometheus.Metric) { c.m.Collect(ch) }

// WriteMetrics writes m in the Prometheus text exposition format, for
// node_exporter's textfile collector.
func WriteMetrics(w io.Writer, m Metrics) error {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(metricsCollector{m}); err != nil {
		return err
	}
	fams, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}
