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
	"github.com/dlayer/dlayer/inspect"
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

// duTools are the commands the du benchmarks time over the same store,
// interleaved: GNU du -sx and Debian's gdu (when installed; `make bench`
// installs it as root) on overlay2/, dlayer du (the binary, full audit)
// on the data root, and the floor: the bare parallel stat walk of
// overlay2/ (fixtures/cmd/statwalk) with as many walkers as dlayer's
// default. Each run's output is checked: dlayer's total against
// du -sxB1 of the root, the floor's against du -sxB1 of overlay2/.
type duTools struct {
	root, bin, floor string
	gdu              bool
	rootB1, homeB1   int64
	rss              int64 // dlayer du's peak RSS over the runs
}

func newDUTools(b *testing.B) *duTools {
	root, bin := bigStore(b)
	t := &duTools{root: root, bin: bin, floor: filepath.Join(b.TempDir(), "statwalk")}
	if out, err := exec.Command("go", "build", "-o", t.floor, "github.com/dlayer/dlayer/fixtures/cmd/statwalk").CombinedOutput(); err != nil {
		b.Fatalf("go build statwalk: %v\n%s", err, out)
	}
	_, err := exec.LookPath("gdu")
	t.gdu = err == nil
	if !t.gdu {
		b.Log("gdu is not installed: its column is left out (make bench installs it as root)")
	}
	t.rootB1 = bigBench.duBytes
	out, err := exec.Command("du", "-sxB1", t.home()).Output()
	if err != nil {
		b.Fatal(err)
	}
	if t.homeB1, err = strconv.ParseInt(strings.Fields(string(out))[0], 10, 64); err != nil {
		b.Fatal(err)
	}
	return t
}

func (t *duTools) home() string { return filepath.Join(t.root, "overlay2") }

// tool is one timed command.
type tool struct {
	name string
	run  func() (time.Duration, error)
}

func (t *duTools) list() []tool {
	ts := []tool{
		{"du -sx overlay2/", func() (time.Duration, error) {
			w, _, err := timeCmd("du", "-sx", t.home())
			return w, err
		}},
		{"dlayer du", t.dlayer},
		{"floor (statwalk)", func() (time.Duration, error) {
			w, out, err := timeCmd(t.floor, "-walkers", strconv.Itoa(du.DefaultWorkers()), t.home())
			if err == nil && !strings.HasPrefix(string(out), strconv.FormatInt(t.homeB1, 10)+"\t") {
				err = fmt.Errorf("statwalk says %q, du -sxB1 %d", out, t.homeB1)
			}
			return w, err
		}},
	}
	if t.gdu {
		ts = append(ts, tool{"gdu -n -p -s -x overlay2/", func() (time.Duration, error) {
			w, _, err := timeCmd("gdu", "-n", "-p", "-s", "-x", t.home())
			return w, err
		}})
	}
	return ts
}

// dlayer runs the full audit and checks its total against du -sxB1.
func (t *duTools) dlayer() (time.Duration, error) {
	cmd := exec.Command(t.bin, "--root", t.root, "--format", "json", "du")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("dlayer du: %v\n%s", err, errOut.String())
	}
	wall := time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		t.rss = max(t.rss, ru.Maxrss*1024)
	}
	var r du.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return 0, err
	}
	if r.Summary.Total.DiskUsage != t.rootB1 {
		return 0, fmt.Errorf("dlayer disk usage %d, du -sxB1 %d", r.Summary.Total.DiskUsage, t.rootB1)
	}
	bigBench.files = r.Summary.Files
	return wall, nil
}

// benchRuns is how many interleaved rounds a du benchmark times:
// $DLAYER_BENCH_RUNS, default 10.
func benchRuns(b *testing.B) int {
	n := 10
	if v := os.Getenv("DLAYER_BENCH_RUNS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("DLAYER_BENCH_RUNS=%q: want a count", v)
		}
	}
	return n
}

// dropCaches writes back and drops the page cache, dentries and inodes
// (as root).
func dropCaches() error {
	syscall.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200)
}

// interleave runs every tool once per round, rounds times, the order
// turned by one from round to round (so that no tool always runs right
// after the same other), dropping the caches before each command when
// cold, and returns each tool's times.
func interleave(b *testing.B, ts []tool, rounds int, cold bool) map[string][]time.Duration {
	times := map[string][]time.Duration{}
	for i := range rounds {
		line := fmt.Sprintf("round %d:", i+1)
		for k := range ts {
			tl := ts[(k+i)%len(ts)]
			if cold {
				if err := dropCaches(); err != nil {
					b.Fatal(err)
				}
			}
			w, err := tl.run()
			if err != nil {
				b.Fatal(err)
			}
			times[tl.name] = append(times[tl.name], w)
			line += fmt.Sprintf("  %s %.2fs", tl.name, w.Seconds())
		}
		b.Log(line)
	}
	return times
}

// report logs and reports each tool's median and its ratio to du's.
func reportDU(b *testing.B, t *duTools, ts []tool, times map[string][]time.Duration, what string) {
	base := median(times[ts[0].name]).Seconds()
	metric := map[string]string{"du -sx overlay2/": "du", "dlayer du": "dlayer", "floor (statwalk)": "floor", "gdu -n -p -s -x overlay2/": "gdu"}
	for _, tl := range ts {
		m := median(times[tl.name]).Seconds()
		b.ReportMetric(m, metric[tl.name]+"-sec")
		if tl.name != ts[0].name {
			b.ReportMetric(m/base, metric[tl.name]+"/du")
		}
		b.Logf("%s, median of %d: %-26s %6.2fs  (%.2f of du -sx)", what, len(times[tl.name]), tl.name, m, m/base)
	}
	b.ReportMetric(float64(t.rss)/1e6, "dlayer-maxrss-MB")
	b.Logf("%d entries, GOMAXPROCS %d, %d walkers; dlayer's total = du -sxB1 = %d bytes in every run; dlayer peak RSS %.1f MB",
		bigBench.files, runtime.GOMAXPROCS(0), du.DefaultWorkers(), bigBench.duBytes, float64(t.rss)/1e6)
}

// BenchmarkDUVsCoreutils times du -sx, gdu, dlayer du and the floor over
// the same synthetic store, warm (each ran once before), interleaved,
// $DLAYER_BENCH_RUNS rounds (default 10), and reports the medians and
// their ratios to du's. Run it with -benchtime 1x.
func BenchmarkDUVsCoreutils(b *testing.B) { benchDU(b, false) }

// BenchmarkDUCold is BenchmarkDUVsCoreutils with the page cache, dentries
// and inodes dropped before each command (as root). Run it with
// -benchtime 1x.
func BenchmarkDUCold(b *testing.B) { benchDU(b, true) }

// benchDU runs every du tool over the store, interleaved, warm or cold,
// and reports them.
func benchDU(b *testing.B, cold bool) {
	if cold && os.Geteuid() != 0 {
		b.Skip("dropping the page cache needs root")
	}
	t := newDUTools(b)
	ts := t.list()
	times := interleave(b, ts, benchRuns(b), cold)
	which := "warm"
	if cold {
		which = "cold"
	}
	reportDU(b, t, ts, times, which)
}

// BenchmarkDUColdWalkers times dlayer's audit of the store in process with
// 2, 4, 8 and 16 walkers (du.Options.Workers), the floor with as many,
// and du -sx, caches dropped before each, interleaved: the table its
// default walker count is chosen from. Run it with -benchtime 1x.
func BenchmarkDUColdWalkers(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("dropping the page cache needs root")
	}
	t := newDUTools(b)
	ts := []tool{t.list()[0]}
	for _, n := range []int{2, 4, 8, 16} {
		ts = append(ts, tool{fmt.Sprintf("dlayer audit, %d walkers", n), func() (time.Duration, error) {
			start := time.Now()
			s, err := inspect.Open(t.root, fixtures.Backends(), "")
			if err != nil {
				return 0, err
			}
			r, err := du.Audit(s, du.Options{Workers: n})
			if err != nil {
				return 0, err
			}
			wall := time.Since(start)
			if r.Summary.Total.DiskUsage != t.rootB1 {
				return 0, fmt.Errorf("%d walkers: disk usage %d, du -sxB1 %d", n, r.Summary.Total.DiskUsage, t.rootB1)
			}
			return wall, nil
		}}, tool{fmt.Sprintf("floor, %d walkers", n), func() (time.Duration, error) {
			w, _, err := timeCmd(t.floor, "-walkers", strconv.Itoa(n), t.home())
			return w, err
		}})
	}
	times := interleave(b, ts, benchRuns(b), true)
	base := median(times[ts[0].name]).Seconds()
	for _, tl := range ts {
		m := median(times[tl.name]).Seconds()
		b.Logf("cold, median of %d: %-26s %6.2fs  (%.2f of du -sx)", len(times[tl.name]), tl.name, m, m/base)
	}
}
