package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
)

// BenchmarkContainerdDUVsDocker: on a private Docker 29 engine's
// containerd store (an image of 10 RUN layers × 2,000 small files, a
// BuildKit image on it, a running container that wrote 5,000 files and
// two stopped ones), in one run: the full dlayer du audit (the binary,
// both roots, --format json) against docker system df -v, which asks the
// engine for the same image and container numbers. Numbers and the
// command are in docs/performance.md.
func BenchmarkContainerdDUVsDocker(b *testing.B) {
	e := engine.ForTestWith(b, "", engine.Options{Kind: engine.Docker29})
	if _, err := e.ImportBusybox("bc-base:1"); err != nil {
		b.Fatal(err)
	}
	var df strings.Builder
	df.WriteString("FROM bc-base:1\n")
	for l := 0; l < 10; l++ {
		fmt.Fprintf(&df, "RUN for d in $(seq 20); do mkdir -p /l%d/d$d; cd /l%d/d$d; for f in $(seq 100); do echo %d > f$f; done; done\n", l, l, l)
	}
	if _, err := e.Build("bc-app:1", df.String(), nil); err != nil {
		b.Fatal(err)
	}
	if _, err := e.BuildKit("bc-bk:1", "FROM bc-app:1\nRUN echo bk > /bk\n", nil); err != nil {
		b.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "-d", "--network", "none", "--name", "bc-run", "bc-app:1", "sh", "-c", "mkdir /w; cd /w; for f in $(seq 5000); do echo w > f$f; done; touch /done; sleep 3600"},
		{"run", "--network", "none", "--name", "bc-exited", "bc-bk:1", "sh", "-c", "rm -r /l3 && echo x >> /l5/d1/f1"},
		{"create", "--network", "none", "--name", "bc-created", "bc-app:1", "true"},
	} {
		if out, err := e.Docker(args...); err != nil {
			b.Fatalf("docker %v: %v\n%s", args, err, out)
		}
	}
	if out, err := e.Docker("exec", "bc-run", "sh", "-c", "while [ ! -e /done ]; do sleep 0.1; done"); err != nil {
		b.Fatalf("docker exec: %v\n%s", err, out)
	}
	b.Run("dlayer du", func(b *testing.B) {
		for b.Loop() {
			// the binary as it ships (plainBin: never race-built)
			if out, err := exec.Command(plainBin, "--root", e.Root(), "--format", "json", "du").Output(); err != nil || len(out) == 0 {
				b.Fatalf("dlayer du: %v", err)
			}
		}
	})
	b.Run("docker system df -v", func(b *testing.B) {
		for b.Loop() {
			if out, err := e.Docker("system", "df", "-v"); err != nil {
				b.Fatalf("docker system df -v: %v\n%s", err, out)
			}
		}
	})
}
