package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// benchStore builds layers of big random files: hashing, not opening,
// dominates it.
func benchStore(b *testing.B, layers, files int, size int) store {
	r := rand.New(rand.NewPCG(3, 4))
	var ls []fixtures.Layer
	for l := range layers {
		var es []fixtures.Entry
		for f := range files {
			buf := make([]byte, size)
			for i := 0; i < len(buf); i += 8 {
				v := r.Uint64()
				for j := 0; j < 8 && i+j < len(buf); j++ {
					buf[i+j] = byte(v >> (8 * j))
				}
			}
			es = append(es, fixtures.Entry{Path: fmt.Sprintf("/l%d/f%d", l, f), Data: string(buf)})
		}
		ls = append(ls, fixtures.Layer{CreatedBy: fmt.Sprintf("RUN make %d", l), Entries: es})
	}
	return build(b, fixtures.Store{Images: []fixtures.Image{{Tags: []string{"big:1"}, Layers: ls}}}, fixtures.FormAuto)
}

// BenchmarkThroughput compares verify's hashing throughput with
// sha256sum's over the same bytes (the layers' files, cat into sha256sum),
// in the same run: verify with one layer at a time (the per-core figure:
// one stream, hashed in order) and with every CPU.
func BenchmarkThroughput(b *testing.B) {
	s := benchStore(b, 4, 4, 32<<20) // 512 MiB
	var files []string
	for i := range s.Images[0].Layers {
		fs, _ := filepath.Glob(s.diff(i, "l*/f*"))
		files = append(files, fs...)
	}
	var size int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	rates := map[string]float64{}
	b.Run("sha256sum", func(b *testing.B) {
		b.SetBytes(size)
		start := time.Now()
		for i := 0; i < b.N; i++ {
			cmd := exec.Command("sh", "-c", `cat "$@" | sha256sum`, "sh")
			cmd.Args = append(cmd.Args, files...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
		rates["sha256sum"] = float64(size) * float64(b.N) / time.Since(start).Seconds()
	})
	for _, jobs := range []int{1, runtime.GOMAXPROCS(0)} {
		name := fmt.Sprintf("verify-jobs-%d", jobs)
		b.Run(name, func(b *testing.B) {
			st, err := inspect.Open(s.Root, fixtures.Backends(), "")
			if err != nil {
				b.Fatal(err)
			}
			var hashed int64
			start := time.Now()
			for i := 0; i < b.N; i++ {
				r, err := Run(context.Background(), st, Options{Jobs: jobs})
				if err != nil || len(r.Findings) != 0 {
					b.Fatalf("%v %q", err, kinds(r.Findings))
				}
				hashed = r.Stats.BytesHashed
			}
			b.SetBytes(hashed)
			rates[name] = float64(hashed) * float64(b.N) / time.Since(start).Seconds()
		})
	}
	if sum := rates["sha256sum"]; sum > 0 {
		var parts []string
		for _, k := range []string{"verify-jobs-1", fmt.Sprintf("verify-jobs-%d", runtime.GOMAXPROCS(0))} {
			parts = append(parts, fmt.Sprintf("%s %.0f MB/s (%.0f%% of sha256sum)", k, rates[k]/1e6, 100*rates[k]/sum))
		}
		b.Logf("sha256sum %.0f MB/s; %s", sum/1e6, strings.Join(parts, "; "))
	}
}

// BenchmarkSmallFiles verifies a layer of 50,000 small files: opens, not
// hashing, dominate.
func BenchmarkSmallFiles(b *testing.B) {
	var es []fixtures.Entry
	for d := range 50 {
		for f := range 1000 {
			es = append(es, fixtures.Entry{Path: fmt.Sprintf("/d%d/f%d", d, f), Data: fmt.Sprintf("%d\n", f)})
		}
	}
	s := build(b, fixtures.Store{Images: []fixtures.Image{{Tags: []string{"small:1"}, Layers: []fixtures.Layer{{Entries: es}}}}}, fixtures.FormAuto)
	st, err := inspect.Open(s.Root, fixtures.Backends(), "")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var r *Report
	for i := 0; i < b.N; i++ {
		if r, err = Run(context.Background(), st, Options{}); err != nil || len(r.Findings) != 0 {
			b.Fatalf("%v %q", err, kinds(r.Findings))
		}
	}
	b.ReportMetric(float64(r.Stats.Entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
