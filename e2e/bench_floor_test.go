package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/engine"
)

// The store of issue 16: an image of 20 RUN layers, each 50,000 small
// files (two dirs a/ and b/ of 25 dirs × 1,000 files) and an 8 MiB blob
// (1,000,000 files), and two containers on it that each write 20,000
// files, append to a lower 8 MiB blob and rm -rf a 25,000-file lower dir.
const (
	floorLayers = 20
	floorRounds = 11 // runs of each fast command, interleaved; the median is reported
	floorDocker = 1  // runs of docker diff (half a minute idle, minutes on a loaded host), spread over the rounds
)

// floorScripts are the two containers' commands, by name.
var floorScripts = map[string]string{
	"big-a": `mkdir /new; cd /new; for d in $(seq 20); do mkdir d$d; for f in $(seq 1000); do echo n > d$d/f$f; done; done; echo x >> /l3/blob; rm -rf /l5/a`,
	"big-b": `mkdir /new; cd /new; for d in $(seq 20); do mkdir d$d; for f in $(seq 1000); do echo m > d$d/f$f; done; done; echo y >> /l12/blob; rm -rf /l17/b`,
}

func floorDockerfile() string {
	var df strings.Builder
	df.WriteString("FROM bench-base:1\n")
	for l := 0; l < floorLayers; l++ {
		fmt.Fprintf(&df, "RUN for h in a b; do for d in $(seq 25); do mkdir -p /l%d/$h/d$d; cd /l%d/$h/d$d; for f in $(seq 1000); do echo %d > f$f; done; done; done; dd if=/dev/zero of=/l%d/blob bs=1M count=8 2>/dev/null\n", l, l, l, l)
	}
	df.WriteString(`CMD ["sleep","3600"]` + "\n")
	return df.String()
}

var floorSetup struct {
	once sync.Once
	e    *engine.Engine
	err  error
}

// floorEngine starts a private engine on the store. The store is
// kept in $DLAYER_BENCH_ENGINE (default $TMPDIR/dlayer-bench-engine) and
// built only when missing or when its recipe (a stamp file) changed: it
// takes several minutes. TestMain stops the engine; the store stays.
func floorEngine(b *testing.B) *engine.Engine {
	b.Helper()
	on, _ := engine.Enabled()
	if !on {
		b.Skip(engine.SkipMessage)
	}
	s := &floorSetup
	s.once.Do(func() {
		dir := os.Getenv("DLAYER_BENCH_ENGINE")
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "dlayer-bench-engine")
		}
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range floorScripts {
				if !yield(n) {
					return
				}
			}
		})
		stamp := floorDockerfile()
		for _, n := range names {
			stamp += n + ": " + floorScripts[n] + "\n"
		}
		old, err := os.ReadFile(filepath.Join(dir, "stamp"))
		fresh := err != nil || string(old) != stamp
		if fresh {
			if s.err = os.RemoveAll(dir); s.err != nil {
				return
			}
		}
		if s.e, s.err = engine.Start(dir); s.err != nil {
			return
		}
		if fresh {
			start := time.Now()
			if s.err = buildFloorStore(s.e, names); s.err != nil {
				return
			}
			if s.err = os.WriteFile(filepath.Join(dir, "stamp"), []byte(stamp), 0o644); s.err != nil {
				return
			}
			b.Logf("built the store in %s in %v", dir, time.Since(start).Round(time.Second))
		}
	})
	if s.err != nil {
		b.Fatal(s.err)
	}
	return s.e
}

func buildFloorStore(e *engine.Engine, names []string) error {
	if _, err := e.ImportBusybox("bench-base:1"); err != nil {
		return err
	}
	if _, err := e.Build("floor:1", floorDockerfile(), nil); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := e.Docker("run", "--network", "none", "--name", n, "floor:1", "sh", "-c", floorScripts[n]); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkDiffVsFloor times, in one run on the store (see
// floorEngine), interleaved: the floor `find UPPER -printf '%s %m %U %G
// %T@\n'` (one thread, one lstat per entry of the container's upper
// dir), `dlayer diff big-a`, `dlayer explain big-a` (the binary, as a
// child process, its output read from a pipe as find's is) and, fewer
// times because it walks both merged trees, `docker diff` itself.
// Every dlayer diff output is checked to equal docker diff's. It reports the medians and the ratios dlayer diff / floor
// (target <= 1.2) and dlayer diff / docker diff (target <= 0.01). Run it
// with -benchtime 1x: one iteration is the whole interleaved series.
func BenchmarkDiffVsFloor(b *testing.B) {
	e := floorEngine(b)
	const name = "big-a"
	ci, err := e.InspectContainer(name)
	if err != nil {
		b.Fatal(err)
	}
	upper := ci.GraphDriver.Data["UpperDir"]
	// docker diff takes half a minute: its first timed run gives the
	// lines every other run must equal
	var want string
	var lines int
	var dockerWalls []time.Duration
	dockerDiff := func() {
		// the CLI, whose timeout (engine.CLITimeout) a loaded host needs:
		// the API client's gives up after engine.APITimeout
		start := time.Now()
		out, err := e.Docker("diff", name)
		if err != nil {
			b.Fatal(err)
		}
		dockerWalls = append(dockerWalls, time.Since(start))
		ls := strings.Split(out, "\n")
		sort.Slice(ls, func(i, j int) bool { return ls[i][2:] < ls[j][2:] })
		got := strings.Join(ls, "\n") + "\n"
		if want == "" {
			want, lines = got, len(ls)
		} else if got != want {
			b.Fatalf("docker diff changed between runs")
		}
	}
	dl := []string{"--root", e.Root(), "--daemon", "off", "--mountinfo", "none"}
	cmds := []struct {
		name string
		argv []string
		// check judges one run's stdout
		check func(out []byte) error
	}{
		{"floor", []string{"find", upper, "-printf", `%s %m %U %G %T@\n`}, func(out []byte) error {
			if n := strings.Count(string(out), "\n"); n < 20_000 {
				return fmt.Errorf("find listed %d entries", n)
			}
			return nil
		}},
		{"dlayer-diff", append(append([]string{plainBin}, dl...), "diff", name), func(out []byte) error {
			if string(out) != want {
				return fmt.Errorf("dlayer diff differs from docker diff (%d and %d lines)", strings.Count(string(out), "\n"), lines)
			}
			return nil
		}},
		{"dlayer-explain", append(append([]string{plainBin}, dl...), "explain", name), func(out []byte) error {
			if len(out) == 0 {
				return fmt.Errorf("dlayer explain printed nothing")
			}
			return nil
		}},
	}
	for i := 0; i < b.N; i++ {
		want, dockerWalls = "", nil
		dockerDiff()
		// one warm-up run of each, untimed
		for _, c := range cmds {
			if _, out, err := timeCmd(c.argv[0], c.argv[1:]...); err != nil {
				b.Fatal(err)
			} else if err := c.check(out); err != nil {
				b.Fatal(err)
			}
		}
		walls := map[string][]time.Duration{}
		for r := 0; r < floorRounds; r++ {
			if r > 0 && r%(floorRounds/floorDocker+1) == 0 {
				dockerDiff()
			}
			for k := range cmds {
				c := cmds[(k+r)%len(cmds)] // rotate the order from round to round
				wall, out, err := timeCmd(c.argv[0], c.argv[1:]...)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.check(out); err != nil {
					b.Fatal(err)
				}
				walls[c.name] = append(walls[c.name], wall)
			}
		}
		walls["docker-diff"] = dockerWalls
		med := map[string]float64{}
		for k, ws := range walls {
			slices.Sort(ws)
			med[k] = ws[len(ws)/2].Seconds()
			b.ReportMetric(med[k], k+"-sec")
		}
		b.ReportMetric(med["dlayer-diff"]/med["floor"], "diff/floor")
		b.ReportMetric(med["dlayer-explain"]/med["floor"], "explain/floor")
		b.ReportMetric(med["dlayer-diff"]/med["docker-diff"], "diff/docker")
		b.ReportMetric(float64(lines), "lines")
		b.Logf("%s, upper dir %s: medians of %d interleaved runs: floor (find -printf) %.3f s, dlayer diff %.3f s (%.2f× the floor), dlayer explain %.3f s (%.2f×); docker diff %.2f s (median of %d): dlayer diff takes 1/%.0f of it; %d lines, equal",
			name, upper, floorRounds, med["floor"], med["dlayer-diff"], med["dlayer-diff"]/med["floor"],
			med["dlayer-explain"], med["dlayer-explain"]/med["floor"],
			med["docker-diff"], len(walls["docker-diff"]), med["docker-diff"]/med["dlayer-diff"], lines)
	}
}
