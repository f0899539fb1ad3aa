package verify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// smallFileStore has layers of small files: opening them, not hashing,
// dominates a full verify, and a stat walk costs the most against it.
func smallFileStore(b *testing.B, layers, dirs, files int) store {
	var ls []fixtures.Layer
	for l := range layers {
		var es []fixtures.Entry
		for d := range dirs {
			for f := range files {
				es = append(es, fixtures.Entry{Path: fmt.Sprintf("/l%d/d%d/f%d", l, d, f), Data: fmt.Sprintf("%d %d\n", d, f)})
			}
		}
		ls = append(ls, fixtures.Layer{CreatedBy: fmt.Sprintf("RUN make %d", l), Entries: es})
	}
	return build(b, fixtures.Store{Images: []fixtures.Image{{Tags: []string{"small:1"}, Layers: ls}}}, fixtures.FormAuto)
}

// BenchmarkStateUnchanged times, on the same store in the same run, a
// full verify and a verify with the state a full run recorded, after no
// change (every layer trusted on ctime: a stat walk of each tree), on a
// store of big files (hashing dominates) and one of small files (opens
// dominate). The target: the state run at most 0.2× the full one.
func BenchmarkStateUnchanged(b *testing.B) {
	for _, c := range []struct {
		name  string
		build func(b *testing.B) store
	}{
		{"big-files", func(b *testing.B) store { return benchStore(b, 4, 4, 16<<20) }}, // 256 MiB in 16 files
		{"small-files", func(b *testing.B) store { return smallFileStore(b, 5, 20, 500) }},
	} {
		s := c.build(b)
		st, err := inspect.Open(s.Root, fixtures.Backends(), "")
		if err != nil {
			b.Fatal(err)
		}
		first, err := Run(context.Background(), st, Options{Trust: &Trust{}})
		if err != nil || len(first.Findings) != 0 {
			b.Fatalf("%v %q", err, kinds(first.Findings))
		}
		times := map[string]time.Duration{}
		for _, side := range []struct {
			name string
			opt  Options
		}{{"full", Options{}}, {"state", Options{Trust: &Trust{Prev: first.Next}}}} {
			b.Run(c.name+"/"+side.name, func(b *testing.B) {
				var r *Report
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if r, err = Run(context.Background(), st, side.opt); err != nil || len(r.Findings) != 0 {
						b.Fatalf("%v %q", err, kinds(r.Findings))
					}
				}
				times[side.name] = time.Since(start) / time.Duration(b.N)
				if side.opt.Trust != nil && (r.Trust.LayersTrusted != r.Stats.Layers || r.Stats.LayersHashed != 0) {
					b.Fatalf("after no change: %+v", *r.Trust)
				}
				b.ReportMetric(float64(r.Stats.Layers), "layers")
			})
		}
		if full, state := times["full"], times["state"]; full > 0 && state > 0 {
			b.Logf("%s: full verify %v, --state after no change %v: %.3f× (target <= 0.2×)",
				c.name, full.Round(time.Microsecond), state.Round(time.Microsecond), state.Seconds()/full.Seconds())
		}
	}
}
