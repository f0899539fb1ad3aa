package e2e

import (
	"context"
	"github.com/dlayer/dlayer/fixtures"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/verify"
)

// BenchmarkVerifyVsDocker times, in the same run and on the same private
// engine, `docker save bench:1 > /dev/null` (Docker's own verifying read:
// it rebuilds every layer's tar stream from tar-split and checks its
// DiffID) and a full content verify of the store holding bench:1
// (1,000,000 small files in 20 layers; see benchEngine). The issue's
// target: verify in at most 1/5 of docker save's time.
func BenchmarkVerifyVsDocker(b *testing.B) {
	e := benchEngine(b)
	var save, ver time.Duration
	b.Run("docker-save", func(b *testing.B) {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer null.Close()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			cmd := exec.Command("/usr/bin/docker", "-H", e.Host(), "save", "bench:1")
			var stderr strings.Builder
			cmd.Stdout, cmd.Stderr = null, &stderr
			cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+b.TempDir())
			if err := cmd.Run(); err != nil {
				b.Fatalf("docker save: %v: %s", err, stderr.String())
			}
		}
		save = time.Since(start) / time.Duration(b.N)
	})
	b.Run("dlayer-verify", func(b *testing.B) {
		s, err := inspect.Open(e.Root(), fixtures.Backends(), "")
		if err != nil {
			b.Fatal(err)
		}
		var r *verify.Report
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if r, err = verify.Run(context.Background(), s, verify.Options{}); err != nil {
				b.Fatal(err)
			}
			if len(r.Findings) != 0 {
				b.Fatalf("a clean engine store has findings: %+v", r.Findings[0])
			}
		}
		ver = time.Since(start) / time.Duration(b.N)
		b.ReportMetric(float64(r.Stats.Entries), "entries")
		b.ReportMetric(float64(r.Stats.BytesHashed)/ver.Seconds()/1e6, "MB/s")
	})
	if save > 0 && ver > 0 {
		b.Logf("docker save bench:1: %v; dlayer verify (whole store): %v; verify takes %.1f%% of docker save's time (target <= 20%%)",
			save.Round(time.Millisecond), ver.Round(time.Millisecond), 100*ver.Seconds()/save.Seconds())
	}
}
