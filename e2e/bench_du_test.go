package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/du"
)

// The big store is kept between runs (building it takes about a minute
// and 4 GB): in $DLAYER_BENCH_STORE, default $TMPDIR/dlayer-bench-store,
// as root/ beside a stamp naming the options it was built with.
var bigBench struct {
	once      sync.Once
	root, bin string
	duBytes   int64
	err       error
	files     int64
}

func bigStore(b *testing.B) (root, bin string) {
	b.Helper()
	s := &bigBench
	s.once.Do(func() {
		dir := os.Getenv("DLAYER_BENCH_STORE")
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "dlayer-bench-store")
		}
		opt := fixtures.DefaultBig()
		stamp := fmt.Sprintf("%+v", opt)
		s.root = filepath.Join(dir, "root")
		if old, err := os.ReadFile(filepath.Join(dir, "stamp")); err != nil || string(old) != stamp {
			if s.err = os.RemoveAll(dir); s.err != nil {
				return
			}
			start := time.Now()
			st, err := fixtures.BuildBig(s.root, opt)
			if s.err = err; err != nil {
				return
			}
			b.Logf("built %s in %v: %d layers, %d files, %d dirs", s.root, time.Since(start).Round(time.Second), st.Layers, st.Files, st.Dirs)
			if s.err = os.WriteFile(filepath.Join(dir, "stamp"), []byte(stamp), 0o644); s.err != nil {
				return
			}
		}
		s.bin = dlayerBin
		// warm both: the page cache cannot be dropped fairly for one of
		// them only, so each runs once before any is timed
		if _, _, s.err = timeCmd("du", "-s", s.root); s.err != nil {
			return
		}
		if _, _, s.err = timeCmd(s.bin, "--root", s.root, "--format", "json", "du"); s.err != nil {
			return
		}
		out, err := exec.Command("du", "-sxB1", s.root).Output()
		if s.err = err; err != nil {
			return
		}
		s.duBytes, s.err = strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	})
	if s.err != nil {
		b.Fatal(s.err)
	}
	return s.root, s.bin
}

// timeCmd runs a command and returns its wall time and stdout.
func timeCmd(name string, args ...string) (time.Duration, []byte, error) {
	cmd := exec.Command(name, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %v: %v\n%s", name, args, err, errOut.String())
	}
	return wall, out.Bytes(), nil
}

// BenchmarkDUVsCoreutils times `du -s` and `dlayer du` (the binary, as a
// child process) over the same synthetic store in the same run,
// alternating, after one warm-up run of each. It reports both wall times,
// their ratio and dlayer's peak RSS, and checks that dlayer's total equals
// du -sxB1. Run it with -benchtime Nx.
func BenchmarkDUVsCoreutils(b *testing.B) {
	root, bin := bigStore(b)
	var duWall, dlWall time.Duration
	var rss int64
	for i := 0; i < b.N; i++ {
		w, _, err := timeCmd("du", "-s", root)
		if err != nil {
			b.Fatal(err)
		}
		duWall += w
		cmd := exec.Command(bin, "--root", root, "--format", "json", "du")
		var out bytes.Buffer
		cmd.Stdout = &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		dlWall += time.Since(start)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = max(rss, ru.Maxrss*1024)
		}
		var r du.Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		if r.Summary.Total.DiskUsage != bigBench.duBytes {
			b.Fatalf("dlayer disk usage %d, du -sxB1 %d", r.Summary.Total.DiskUsage, bigBench.duBytes)
		}
		bigBench.files = r.Summary.Files
	}
	n := float64(b.N)
	b.ReportMetric(duWall.Seconds()/n, "du-s-sec")
	b.ReportMetric(dlWall.Seconds()/n, "dlayer-sec")
	b.ReportMetric(dlWall.Seconds()/duWall.Seconds(), "ratio")
	b.ReportMetric(float64(rss)/1e6, "dlayer-maxrss-MB")
	b.Logf("%d entries, GOMAXPROCS %d: du -s %.2fs, dlayer du %.2fs, ratio %.2f (target <= 0.70), dlayer peak RSS %.1f MB (target <= 150)",
		bigBench.files, runtime.GOMAXPROCS(0), duWall.Seconds()/n, dlWall.Seconds()/n, dlWall.Seconds()/duWall.Seconds(), float64(rss)/1e6)
}
