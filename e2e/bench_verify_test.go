package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/inspect/verify"
)

// saveRounds is how many times each side runs, warm and cold: docker
// save takes most of a minute warm and minutes cold, so the rule's
// minimum for commands over 5 s ($DLAYER_BENCH_RUNS overrides it).
const saveRounds = 5

// floorReaders is how many readers the bare parallel read of the floor
// uses: the most the kernel gave that read on this store (8 → 64 readers:
// 68.2 → 55.3 s cold; 128 gave no more).
const floorReaders = 64

// BenchmarkVerifyVsDocker times, interleaved in one run on issue 16's
// store (see floorEngine: the image floor:1 of 20 RUN layers of 50,000
// small files and an 8 MiB blob, and two containers on it), `docker save
// floor:1 > /dev/null` — Docker's own verifying read: it rebuilds every
// layer's tar stream from tar-split, checking each file's CRC-64 and the
// layer's DiffID — and `dlayer verify` of the whole store (the binary;
// every image and container layer). Warm, then cold (as root: the page
// cache, dentries and inodes dropped before each command, both tools).
// Interleaved with both, the floor: a bare parallel read of every regular
// file of the same layer dirs (readFloor, floorReaders readers:
// the most the kernel gives that read). Medians; the targets are verify ≤ 0.12 of docker save warm,
// ≤ 0.25 cold — out of reach when the floor alone takes more. Every
// verify run is checked: no finding, every layer re-hashed; every floor
// run reads every byte.
func BenchmarkVerifyVsDocker(b *testing.B) {
	e := floorEngine(b)
	rounds := saveRounds
	if os.Getenv("DLAYER_BENCH_RUNS") != "" {
		rounds = benchRuns(b)
	}
	files, bytes, err := layerFiles(e.Root())
	if err != nil {
		b.Fatal(err)
	}
	var entries int64
	var layers int
	ts := []tool{
		{"docker save floor:1", func() (time.Duration, error) {
			null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				return 0, err
			}
			defer null.Close()
			cmd := exec.Command("/usr/bin/docker", "-H", e.Host(), "save", "floor:1")
			var stderr strings.Builder
			cmd.Stdout, cmd.Stderr = null, &stderr
			cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+b.TempDir())
			start := time.Now()
			if err := cmd.Run(); err != nil {
				return 0, fmt.Errorf("docker save: %v: %s", err, stderr.String())
			}
			return time.Since(start), nil
		}},
		{"dlayer verify", func() (time.Duration, error) {
			w, out, err := timeCmd(plainBin, "--root", e.Root(), "--daemon", "off", "--mountinfo", "none", "--format", "json", "verify")
			if err != nil {
				return 0, err
			}
			var r verify.Report
			if err := json.Unmarshal(out, &r); err != nil {
				return 0, fmt.Errorf("dlayer verify --format json: %w", err)
			}
			if len(r.Findings) != 0 {
				return 0, fmt.Errorf("a clean engine store has findings: %+v", r.Findings[0])
			}
			if r.Stats.LayersHashed == 0 || r.Stats.LayersHashed != r.Stats.Layers {
				return 0, fmt.Errorf("verify re-hashed %d layers of %d", r.Stats.LayersHashed, r.Stats.Layers)
			}
			entries, layers = r.Stats.Entries, r.Stats.Layers
			return w, nil
		}},
		{"floor (parallel read)", timedFloor(files, bytes, floorReaders, false)},
	}
	for _, tl := range ts { // warm-up and the checks once before timing
		if _, err := tl.run(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("dlayer verify: %d layers, %d entries; the floor: %d regular files, %d bytes, %d readers", layers, entries, len(files), bytes, floorReaders)
	b.ResetTimer()
	report := func(what string, times map[string][]time.Duration, target float64) {
		save, ver, floor := median(times[ts[0].name]), median(times[ts[1].name]), median(times[ts[2].name])
		b.ReportMetric(save.Seconds(), what+"-save-sec")
		b.ReportMetric(ver.Seconds(), what+"-verify-sec")
		b.ReportMetric(floor.Seconds(), what+"-floor-sec")
		b.ReportMetric(ver.Seconds()/save.Seconds(), what+"-verify/save")
		b.ReportMetric(floor.Seconds()/save.Seconds(), what+"-floor/save")
		goal := fmt.Sprintf("target <= %.2f", target)
		if floor.Seconds()/save.Seconds() > target {
			goal += fmt.Sprintf("; ruled out by the floor alone, %.3f of docker save's time", floor.Seconds()/save.Seconds())
		}
		b.Logf("%s, median of %d: docker save floor:1 %v, dlayer verify (whole store) %v, floor %v: verify %.3f of docker save's time (%s), %.2fx the floor",
			what, len(times[ts[0].name]), save.Round(time.Millisecond), ver.Round(time.Millisecond), floor.Round(time.Millisecond),
			ver.Seconds()/save.Seconds(), goal, ver.Seconds()/floor.Seconds())
	}
	report("warm", interleave(b, ts, rounds, false), 0.12)
	if os.Geteuid() == 0 {
		report("cold", interleave(b, ts, rounds, true), 0.25)
	} else {
		b.Log("cold: left out, dropping the page cache needs root")
	}
}

// layerFiles lists the regular files of every layer dir of an overlay2
// engine store (each layerdb entry's cache-id names its dir), with the
// bytes they hold.
func layerFiles(root string) ([]string, int64, error) {
	ids, err := filepath.Glob(filepath.Join(root, "image", "overlay2", "layerdb", "sha256", "*", "cache-id"))
	if err != nil || len(ids) == 0 {
		return nil, 0, fmt.Errorf("%s: no layerdb cache-id files (%v)", root, err)
	}
	var dirs []string
	for _, f := range ids {
		id, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, err
		}
		dirs = append(dirs, filepath.Join(root, "overlay2", strings.TrimSpace(string(id)), "diff"))
	}
	return regularFiles(dirs)
}
