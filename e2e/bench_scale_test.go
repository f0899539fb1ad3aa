package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/du"
)

// The scale simulation's stores live in an ext4 file system of their own,
// in an image file ($DLAYER_SCALE_IMAGE, default /var/tmp/dlayer-scale.ext4)
// loop-mounted for the run: sized so that the stores cannot exhaust the
// host's disk or inodes (scaleImageSize sparse, scaleInodes inodes, 256-byte
// inodes with inline_data, so the tiny files take no block of their own).
// The image is kept between runs; each store is rebuilt only when its stamp
// (the generator's options) changes.
const (
	scaleImageSize = "20G"
	scaleInodes    = 16_000_000
)

// scaleSteps are the stores, in layers of scaleFilesPerLayer entries: a
// million, three million and ten million files in 1,000 layers.
func scaleSteps() []fixtures.BigOptions {
	files := 10_000
	if s := os.Getenv("DLAYER_SCALE_FILES"); s != "" { // a quick run of the harness itself
		files, _ = strconv.Atoi(s)
	}
	var steps []fixtures.BigOptions
	for _, layers := range []int{100, 300, 1000} {
		steps = append(steps, fixtures.BigOptions{BaseLayers: 20, Images: (layers - 20) / 20, LayersPerImage: 20,
			FilesPerLayer: files, Containers: 4, Seed: 1, TinyFiles: true})
	}
	return steps
}

// scaleMount mounts the scale image (making it the first time) and
// returns the mount point and the function that unmounts it.
func scaleMount(b *testing.B) (string, func()) {
	b.Helper()
	img := os.Getenv("DLAYER_SCALE_IMAGE")
	if img == "" {
		img = "/var/tmp/dlayer-scale.ext4"
	}
	mnt := img + ".mnt"
	if _, err := os.Stat(img); os.IsNotExist(err) {
		for _, c := range [][]string{{"truncate", "-s", scaleImageSize, img},
			{"mkfs.ext4", "-q", "-F", "-N", strconv.Itoa(scaleInodes), "-I", "256", "-O", "inline_data", "-E", "lazy_itable_init=1,lazy_journal_init=1", img}} {
			if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
				os.Remove(img)
				b.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
			}
		}
	}
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "loop,noatime", img, mnt).CombinedOutput(); err != nil {
		b.Fatalf("mount %s: %v\n%s", img, err, out)
	}
	return mnt, func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			b.Errorf("umount %s: %v\n%s", mnt, err, out)
		}
	}
}

// scaleStore is one store of the simulation and what was measured on it.
type scaleStore struct {
	opt           fixtures.BigOptions
	root          string
	layers        int
	entries       int64 // du's count of entries walked
	du, verify    []time.Duration
	duRSS, vfyRSS int64
}

// BenchmarkScale is the scale simulation: du and verify --quick over
// stores of 1, 3 and 10 million entries (100, 300 and 1,000 layers; the
// generator writes no tar-split, which verify reports, one finding a layer),
// $DLAYER_BENCH_RUNS runs of each (default 10) after a warm-up, store by
// store, warm cache, each a child process of the binary as shipped (run
// it with -benchtime 1x). It
// reports the median time and peak RSS at each size, the least-squares
// line time = a + b × entries with its R², and that line's value at
// 50,000,000 entries (5,000 layers of 10,000). Correctness in the same
// run: each store's du total equals du -sxB1, and verify --quick finds
// only the missing tar-splits. Root only (it loop-mounts the image).
func BenchmarkScale(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("the scale simulation loop-mounts its ext4 image: root only")
	}
	mnt, unmount := scaleMount(b)
	defer unmount()
	var stores []*scaleStore
	for _, opt := range scaleSteps() {
		layers := opt.BaseLayers + opt.Images*opt.LayersPerImage
		s := &scaleStore{opt: opt, layers: layers, root: filepath.Join(mnt, fmt.Sprintf("store-%dx%d", layers, opt.FilesPerLayer), "root")}
		stamp := fmt.Sprintf("%+v", opt)
		stampFile := filepath.Join(filepath.Dir(s.root), "stamp")
		if old, err := os.ReadFile(stampFile); err != nil || string(old) != stamp {
			if err := os.RemoveAll(filepath.Dir(s.root)); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			st, err := fixtures.BuildBig(s.root, opt)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("built %s in %v: %d layers, %d files, %d dirs", s.root, time.Since(start).Round(time.Second), st.Layers, st.Files, st.Dirs)
			if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		// correctness, and a warm-up of both commands
		out, err := exec.Command("du", "-sxB1", s.root).Output()
		if err != nil {
			b.Fatal(err)
		}
		want, _ := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
		r, _, err := scaleDU(plainBin, s.root)
		if err != nil {
			b.Fatal(err)
		}
		if r.Summary.Total.DiskUsage != want {
			b.Fatalf("%s: dlayer du total %d, du -sxB1 %d", s.root, r.Summary.Total.DiskUsage, want)
		}
		s.entries = r.Summary.Files
		if _, _, err := scaleVerify(plainBin, s.root, s.layers); err != nil {
			b.Fatal(err)
		}
		stores = append(stores, s)
	}
	// Each store's runs one after another, du and verify alternating:
	// interleaving the stores would make each run a cold one, since the
	// 10M-entry store's inodes and dentries alone outgrow the page cache
	// of this 24 GB machine and evict the others'.
	rounds := benchRuns(b)
	b.ResetTimer()
	for _, s := range stores {
		for range rounds {
			start := time.Now()
			_, rss, err := scaleDU(plainBin, s.root)
			if err != nil {
				b.Fatal(err)
			}
			s.du, s.duRSS = append(s.du, time.Since(start)), max(s.duRSS, rss)
			start = time.Now()
			_, rss, err = scaleVerify(plainBin, s.root, s.layers)
			if err != nil {
				b.Fatal(err)
			}
			s.verify, s.vfyRSS = append(s.verify, time.Since(start)), max(s.vfyRSS, rss)
		}
	}
	b.StopTimer()
	const target = 50_000_000
	var table strings.Builder
	fmt.Fprintf(&table, "%-8s %-12s %-10s %-12s %-10s %-12s\n", "layers", "entries", "du s", "du RSS MB", "verify s", "verify RSS MB")
	var xs, duYs, vYs []float64
	for _, s := range stores {
		d, v := median(s.du).Seconds(), median(s.verify).Seconds()
		fmt.Fprintf(&table, "%-8d %-12d %-10.2f %-12.1f %-10.2f %-12.1f\n", s.layers, s.entries, d, float64(s.duRSS)/1e6, v, float64(s.vfyRSS)/1e6)
		xs, duYs, vYs = append(xs, float64(s.entries)), append(duYs, d), append(vYs, v)
		b.ReportMetric(d, fmt.Sprintf("du-sec-%dlayers", s.layers))
		b.ReportMetric(v, fmt.Sprintf("verify-quick-sec-%dlayers", s.layers))
		b.ReportMetric(float64(s.duRSS)/1e6, fmt.Sprintf("du-maxrss-MB-%dlayers", s.layers))
	}
	for _, f := range []struct {
		name string
		ys   []float64
	}{{"du", duYs}, {"verify --quick", vYs}} {
		a, slope, r2 := linearFit(xs, f.ys)
		fmt.Fprintf(&table, "%s: time = %.3f s + %.1f ns × entries (R² %.4f); at %d entries: %.1f s\n",
			f.name, a, slope*1e9, r2, target, a+slope*target)
		b.ReportMetric(slope*1e9, strings.ReplaceAll(f.name, " --", "-")+"-ns/entry")
	}
	b.Logf("scale simulation, %d runs each (medians), warm cache:\n%s", rounds, table.String())
}

// scaleDU runs dlayer du --format json on root and returns its report
// and the child's peak RSS.
func scaleDU(bin, root string) (*du.Report, int64, error) {
	out, rss, err := runChild(bin, 0, "--root", root, "--daemon", "off", "--mountinfo", "none", "--format", "json", "du")
	if err != nil {
		return nil, 0, err
	}
	var r du.Report
	return &r, rss, json.Unmarshal(out, &r)
}

// scaleVerify runs dlayer verify --quick on root, a store of layers
// layers: it must find only what BuildBig leaves out, each layer's
// tar-split (exit 1, one tar_split_missing a layer).
func scaleVerify(bin, root string, layers int) ([]byte, int64, error) {
	out, rss, err := runChild(bin, 1, "--root", root, "--daemon", "off", "--mountinfo", "none", "--format", "json", "verify", "--quick")
	if err != nil {
		return nil, 0, err
	}
	var v struct {
		Findings []struct{ Kind string } `json:"findings"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, 0, err
	}
	for _, f := range v.Findings {
		if f.Kind != "tar_split_missing" {
			return nil, 0, fmt.Errorf("verify --quick %s: a %s finding", root, f.Kind)
		}
	}
	if len(v.Findings) != layers {
		return nil, 0, fmt.Errorf("verify --quick %s: %d findings, want %d (tar_split_missing, one a layer)", root, len(v.Findings), layers)
	}
	return out, rss, nil
}

// runChild runs bin with args and returns its stdout and peak RSS; an
// exit code up to okCode is a success.
func runChild(bin string, okCode int, args ...string) ([]byte, int64, error) {
	cmd := exec.Command(bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil && !(cmd.ProcessState != nil && cmd.ProcessState.ExitCode() >= 0 && cmd.ProcessState.ExitCode() <= okCode) {
		return nil, 0, fmt.Errorf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, errOut.String())
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024
	}
	return out.Bytes(), rss, nil
}

// median is the median of ds.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// linearFit is the least-squares line y = a + b·x and its R².
func linearFit(xs, ys []float64) (a, b, r2 float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	b = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	a = (sy - b*sx) / n
	var ssRes, ssTot float64
	for i := range xs {
		ssRes += math.Pow(ys[i]-(a+b*xs[i]), 2)
		ssTot += math.Pow(ys[i]-sy/n, 2)
	}
	if ssTot == 0 {
		return a, b, 1
	}
	return a, b, 1 - ssRes/ssTot
}

func TestLinearFit(t *testing.T) {
	a, b, r2 := linearFit([]float64{1, 2, 3}, []float64{3, 5, 7})
	if math.Abs(a-1) > 1e-9 || math.Abs(b-2) > 1e-9 || math.Abs(r2-1) > 1e-9 {
		t.Errorf("linearFit = %v %v %v, want 1 2 1", a, b, r2)
	}
	if m := median([]time.Duration{5, 1, 3, 2}); m != 2 {
		t.Errorf("median = %v, want 2 (the mean of 2 and 3, in integer ns)", m)
	}
}
