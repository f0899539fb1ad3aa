package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/opencontainers/go-digest"
)

// TestMetricsHostileTags: an image's tag is the only label value taken
// from the store; one that is not UTF-8, holds quotes and newlines, or
// is huge still gives a valid exposition with a bounded label (two that
// are alike once cut are told apart by ID: no duplicate series), and
// only the top N images by size get series.
func TestMetricsHostileTags(t *testing.T) {
	r := &du.Report{Driver: "overlay2"}
	for i, tag := range []string{"bad\xff\xfe:1", "q\"uote\nnl:1", strings.Repeat("long", 400) + ":1", strings.Repeat("long", 400) + ":2", "small:1"} {
		r.Images = append(r.Images, du.Image{ID: digest.FromString(tag), Tags: []string{tag}, Counted: true, Size: int64(1000 - i)})
	}
	r.Images = append(r.Images, du.Image{ID: digest.FromString("untagged"), Counted: true, Size: 2000})
	var b bytes.Buffer
	if err := WriteMetrics(&b, Metrics{Root: "/var/lib/docker", DU: r, TopImages: 5}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !utf8.ValidString(out) {
		t.Error("the exposition is not valid UTF-8")
	}
	if strings.Contains(out, "small:1") {
		t.Error("an image beyond the top 5 has series")
	}
	if !strings.Contains(out, `image="`+short(digest.FromString("untagged"))+`"`) {
		t.Error("the untagged image is not labelled with its short ID")
	}
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "dlayer_du_image_size_bytes") && len(line) > 400 {
			t.Errorf("an unbounded label: %d bytes", len(line))
		}
	}
	if !strings.Contains(out, `q\"uote\nnl:1`) {
		t.Errorf("quote and newline not escaped:\n%s", out)
	}
}

// TestVerifyPromScans: a --quick run's textfile is the verify_quick
// scan's, with only the metadata kinds; a full run's every kind; the last
// success is read back from a previous file by scan.
func TestVerifyPromScans(t *testing.T) {
	var b bytes.Buffer
	if err := VerifyProm(&b, VerifyMetrics{Report: &verify.Report{Quick: true, Complete: true}, Quick: true, Root: "/r"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `dlayer_verify_findings{check="metadata",kind="image_id_mismatch",scan="verify_quick"} 0`) ||
		strings.Contains(b.String(), `check="content"`) {
		t.Errorf("a quick run's textfile:\n%s", b.String())
	}
	b.Reset()
	if err := VerifyProm(&b, VerifyMetrics{Report: &verify.Report{Complete: true}, Root: "/r"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `check="content",kind="diff_id_mismatch",scan="verify"} 0`) {
		t.Errorf("a full run's textfile:\n%s", b.String())
	}
	prev := "dlayer_scan_last_success_timestamp_seconds{scan=\"verify_quick\"} 5\ndlayer_scan_last_success_timestamp_seconds{scan=\"verify\"} 1.7e+09\n"
	if ts, ok := LastSuccess(strings.NewReader(prev), ScanVerify); !ok || ts.Unix() != 1_700_000_000 {
		t.Errorf("LastSuccess(verify) = %v %v", ts, ok)
	}
	if _, ok := LastSuccess(strings.NewReader("not metrics {"), ScanVerify); ok {
		t.Error("a file that does not parse has a last success")
	}
}
