package du

import (
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// BenchmarkAudit audits a small synthetic store (20 layers of 1,000
// files: hardlinks, symlinks, sparse files, a 300-deep chain) in process.
// `make bench` times the full-size store against du -s in package main.
func BenchmarkAudit(b *testing.B) {
	dir := b.TempDir()
	st, err := fixtures.BuildBig(dir, fixtures.BigOptions{BaseLayers: 5, Images: 3, LayersPerImage: 5, FilesPerLayer: 1000, Containers: 2, Seed: 7})
	if err != nil {
		b.Fatal(err)
	}
	s, err := inspect.Open(dir, fixtures.Backends(), "")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Audit(s, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if r.Summary.Files < st.Files {
			b.Fatalf("walked %d entries, the store has %d files", r.Summary.Files, st.Files)
		}
	}
	b.ReportMetric(float64(st.Files), "files")
}
