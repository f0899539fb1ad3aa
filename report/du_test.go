package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/opencontainers/go-digest"
)

func duSample() *du.Report {
	return &du.Report{
		Root: "/r", Driver: "overlay2", DriverDir: "/r/overlay2",
		Summary: du.Summary{
			Images:      du.Group{Count: 2, Active: 1, Usage: du.Usage{Size: 2_000_000, DiskUsage: 2_100_000}, Reclaimable: du.Usage{DiskUsage: 4096}},
			Orphans:     du.Group{Count: 1, Usage: du.Usage{Size: 10, DiskUsage: 8192}, Reclaimable: du.Usage{Size: 10, DiskUsage: 8192}},
			Total:       du.Usage{Size: 2_000_010, DiskUsage: 2_108_192},
			Reclaimable: du.Usage{Size: 10, DiskUsage: 12288},
			SparseFiles: 1, SparseBytes: 1 << 20, HardlinkedInodes: 2, ExtraLinks: 3,
		},
		Layers: []du.Layer{{Layer: inspect.Layer{ChainID: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", CacheID: "c1", Size: 5}, MeasuredSize: 7, DiskUsage: 4096,
			Images: []digest.Digest{"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}, Refcount: 1}},
		Images:   []du.Image{{ID: "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Tags: []string{"app:1"}, Size: 5}},
		Orphans:  []du.Dir{{Name: "bad\nname\xff", Path: "/r/overlay2/bad\nname\xff", Usage: du.Usage{Size: 10, DiskUsage: 8192}, Why: "no layerdb layer"}},
		Findings: []inspect.Finding{{Kind: "dangling_link", Path: "/r/overlay2/l/X", Message: "points at ../y/diff"}},
	}
}

func TestDUTables(t *testing.T) {
	r := duSample()
	for by, want := range map[string][]string{
		"":       {"Images                    2       1        2MB    2.1MB        4.1kB", "Reclaimable: removing 0 stopped containers", "1 sparse file (1.05MB of apparent size not allocated)", "orphan   bad\\nname\\xff   10B", "Problems (1)", "dangling_link: /r/overlay2/l/X: points at ../y/diff"},
		"layer":  {"aaaaaaaaaaaa   c1         5B (now 7B)", "app:1"},
		"image":  {"app:1   bbbbbbbbbbbb"},
		"orphan": {"bad\\nname\\xff   10B"},
	} {
		var buf bytes.Buffer
		if err := DU(&buf, r, DUOptions{By: by}); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("--by %q: no %q in\n%s", by, w, buf.String())
			}
		}
		if strings.Contains(buf.String(), "bad\nname") {
			t.Errorf("--by %q: a raw newline from a name", by)
		}
	}
	if err := DU(&bytes.Buffer{}, r, DUOptions{By: "volume"}); err == nil {
		t.Error("unknown view accepted")
	}
}

func TestDUJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := DUJSON(&buf, Provenance{}, duSample()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Orphans []map[string]any `json:"orphans"`
		Summary map[string]any   `json:"summary"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Orphans[0]["name"] != `bad\nname\xff` || doc.Orphans[0]["disk_usage"] != float64(8192) {
		t.Errorf("orphan %v", doc.Orphans[0])
	}
	if doc.Summary["sparse_bytes"] != float64(1<<20) {
		t.Errorf("summary %v", doc.Summary)
	}
}
