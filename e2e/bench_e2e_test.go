package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
)

// The scale of the target: an image of 1,000,000 files in 20
// layers, and a container whose upper dir holds about 20,000 entries.
const (
	benchLayers        = 20
	benchFilesPerLayer = 50_000
)

var benchSetup struct {
	once sync.Once
	dir  string
	e    *engine.Engine
	err  error
	n    int // docker diff lines
}

// benchEngine builds the big image and container once per test binary;
// TestMain stops the engine and removes its dir.
func benchEngine(b *testing.B) *engine.Engine {
	b.Helper()
	on, _ := engine.Enabled()
	if !on {
		b.Skip(engine.SkipMessage)
	}
	s := &benchSetup
	s.once.Do(func() {
		if s.dir, s.err = os.MkdirTemp("", "dlayer-bench-"); s.err != nil {
			return
		}
		if s.e, s.err = engine.Start(s.dir); s.err != nil {
			return
		}
		if _, s.err = s.e.ImportBusybox("bench-base:1"); s.err != nil {
			return
		}
		var df strings.Builder
		df.WriteString("FROM bench-base:1\n")
		for l := 0; l < benchLayers; l++ {
			// 50 dirs of 1,000 files per layer
			fmt.Fprintf(&df, "RUN for d in $(seq 50); do mkdir -p /l%d/d$d; cd /l%d/d$d; for f in $(seq 1000); do echo %d > f$f; done; done\n", l, l, l)
		}
		df.WriteString(`CMD ["sleep","3600"]` + "\n")
		if _, s.err = s.e.Build("bench:1", df.String(), nil); s.err != nil {
			return
		}
		// 20,000 upper entries: 10,000 new files, 5,000 appended lower
		// files (copy-ups), 5,000 deleted lower files (whiteouts).
		script := `mkdir /new; cd /new; for d in $(seq 10); do mkdir d$d; for f in $(seq 1000); do echo n > d$d/f$f; done; done;
for f in $(seq 1000); do for d in 1 2 3 4 5; do echo x >> /l3/d$d/f$f; rm /l7/d$d/f$f; done; done`
		if _, s.err = s.e.Docker("run", "--network", "none", "--name", "bench", "bench:1", "sh", "-c", script); s.err != nil {
			return
		}
		var ch []engine.Change
		ch, s.err = s.e.Changes("bench")
		s.n = len(ch)
	})
	if s.err != nil {
		b.Fatal(s.err)
	}
	return s.e
}

// BenchmarkDiffVsDocker times `docker diff` (the engine's changes API,
// which walks both merged trees) and `dlayer diff` (which walks only the
// upper dir) on the same container, in the same run.
func BenchmarkDiffVsDocker(b *testing.B) {
	e := benchEngine(b)
	b.Run("docker-diff", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ch, err := e.Changes("bench")
			if err != nil || len(ch) != benchSetup.n {
				b.Fatalf("changes: %d lines, %v", len(ch), err)
			}
		}
		b.ReportMetric(float64(benchSetup.n), "lines")
	})
	b.Run("dlayer-diff", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			out, errOut, code := runCLI("--root", e.Root(), "--daemon", "off", "--mountinfo", "none", "diff", "bench")
			if code != 0 {
				b.Fatalf("exit %d: %s", code, errOut)
			}
			if n := strings.Count(out, "\n"); n != benchSetup.n {
				b.Fatalf("dlayer diff: %d lines, docker diff %d", n, benchSetup.n)
			}
		}
		b.ReportMetric(float64(benchSetup.n), "lines")
	})
}
