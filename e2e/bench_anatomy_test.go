package e2e

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/anatomy"
)

// anatomyBenchOptions: one image of 50 layers of 20,000 files (1,000,000
// files; a second, dangling image of as many beside it).
func anatomyBenchOptions() fixtures.BigOptions {
	return fixtures.BigOptions{BaseLayers: 25, Images: 2, LayersPerImage: 25, FilesPerLayer: 20000, Seed: 1}
}

// BenchmarkLayersContentsVsDive times dlayer layers --contents (the
// anatomy and the waste, as JSON) on a 1,000,000-file image against dive
// --json on the same image, in one run: dive reads a docker save archive
// of it (written once from the layer dirs, kept), dlayer the store. Both
// are child processes; wall time and peak RSS are reported for each. The
// store and the archive are kept in $DLAYER_BENCH_IMAGE (default
// $TMPDIR/dlayer-bench-image). Run it with -benchtime 1x.
func BenchmarkLayersContentsVsDive(b *testing.B) {
	dive, err := exec.LookPath("dive")
	if err != nil {
		home, _ := os.UserHomeDir()
		dive = filepath.Join(home, ".cache", "dlayer", "tools", "dive")
		if _, err := os.Stat(dive); err != nil {
			b.Fatalf("needs dive (make deps builds it into ~/.cache/dlayer/tools): %v", err)
		}
	}
	dir, root, tag := anatomyBenchImage(b)
	archive := filepath.Join(dir, "image.tar")
	if _, err := os.Stat(archive); err != nil {
		start := time.Now()
		must(b, writeDockerArchive(root, tag, archive))
		fi, _ := os.Stat(archive)
		b.Logf("wrote %s (%d bytes) in %v", archive, fi.Size(), time.Since(start).Round(time.Second))
	}
	work := b.TempDir()
	var dl, dv time.Duration
	var dlRSS, dvRSS int64
	var r anatomy.Report
	var d diveImage
	for i := 0; i < b.N; i++ {
		cmd := cmdBin(dlayerBin, root, "--mountinfo", "none", "--format", "json", "layers", "--contents", tag)
		start := time.Now()
		js, err := cmd.Output()
		dl += time.Since(start)
		must(b, err)
		must(b, json.Unmarshal(js, &r))
		dlRSS = max(dlRSS, maxRSS(cmd))
		out := filepath.Join(work, "dive.json")
		dc := exec.Command(dive, "--source", "docker-archive", archive, "--json", out)
		dc.Env = append(os.Environ(), "HOME="+work)
		start = time.Now()
		if o, err := dc.CombinedOutput(); err != nil {
			b.Fatalf("dive: %v\n%.2000s", err, o)
		}
		dv += time.Since(start)
		dvRSS = max(dvRSS, maxRSS(dc))
		raw, err := os.ReadFile(out)
		must(b, err)
		must(b, json.Unmarshal(raw, &d))
	}
	n := float64(b.N)
	b.ReportMetric(dl.Seconds()/n, "dlayer-sec")
	b.ReportMetric(dv.Seconds()/n, "dive-sec")
	b.ReportMetric(float64(dlRSS)/1e6, "dlayer-maxrss-MB")
	b.ReportMetric(float64(dvRSS)/1e6, "dive-maxrss-MB")
	files := 0
	for _, l := range r.Layers {
		files += l.Added.Entries + l.Changed.Entries
	}
	b.Logf("%s: %d layers, %d entries: dlayer layers --contents %v (peak RSS %.0f MB), waste %d bytes in %d files; dive %s --json %v (peak RSS %.0f MB), inefficientBytes %d",
		tag, len(r.Layers), files, (dl / time.Duration(b.N)).Round(time.Millisecond), float64(dlRSS)/1e6, r.Waste.Bytes, r.Waste.Entries,
		diveVersion, (dv / time.Duration(b.N)).Round(time.Millisecond), float64(dvRSS)/1e6, d.Image.InefficientBytes)
}

// anatomyBenchImage is the store of anatomyBenchOptions, built once and
// kept in $DLAYER_BENCH_IMAGE (default $TMPDIR/dlayer-bench-image, dir):
// its root and its image's tag.
func anatomyBenchImage(b *testing.B) (dir, root, tag string) {
	dir = os.Getenv("DLAYER_BENCH_IMAGE")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "dlayer-bench-image")
	}
	opt := anatomyBenchOptions()
	root = filepath.Join(dir, "root")
	stamp := fmt.Sprintf("%+v", opt)
	if old, err := os.ReadFile(filepath.Join(dir, "stamp")); err != nil || string(old) != stamp {
		must(b, os.RemoveAll(dir))
		start := time.Now()
		st, err := fixtures.BuildBig(root, opt)
		must(b, err)
		b.Logf("built %s in %v: %d layers, %d files", root, time.Since(start).Round(time.Second), st.Layers, st.Files)
		must(b, os.WriteFile(filepath.Join(dir, "stamp"), []byte(stamp), 0o644))
	}
	out, err := runBin(dlayerBin, root, "--format", "json", "images")
	must(b, err)
	return dir, root, firstTag(string(out))
}

// BenchmarkBrowseStartup times dlayer browse on the 1,000,000-file image
// of BenchmarkLayersContentsVsDive, in a private tmux server (100×30):
// from the start to the first screen (every layer walked, the tree of
// every path built), the process's peak RSS then (VmHWM), and the time a
// move to the next layer takes to draw. Run it with -benchtime 1x.
func BenchmarkBrowseStartup(b *testing.B) {
	_, root, tag := anatomyBenchImage(b)
	var first, move time.Duration
	var rss int64
	for i := 0; i < b.N; i++ {
		start := time.Now()
		s := newTmuxScreen(b, fmt.Sprintf("exec %s --root %s --mountinfo none --daemon off browse %s", dlayerBin, root, tag))
		s.waitFor(10*time.Minute, "q quit")
		first += time.Since(start)
		pid := strings.TrimSpace(s.run("display", "-p", "-t", "b", "#{pane_pid}"))
		st, err := os.ReadFile("/proc/" + pid + "/status")
		must(b, err)
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				var kb int64
				fmt.Sscan(v, &kb)
				rss = max(rss, kb*1024)
			}
		}
		start = time.Now()
		s.keys("Down")
		s.waitFor(time.Minute, "> L49 ")
		move += time.Since(start)
		s.keys("q")
	}
	n := time.Duration(b.N)
	b.ReportMetric((first / n).Seconds(), "first-screen-sec")
	b.ReportMetric((move / n).Seconds(), "next-layer-sec")
	b.ReportMetric(float64(rss)/1e6, "maxrss-MB")
	b.Logf("%s: first screen after %v, peak RSS %.0f MB; the next layer drawn in %v",
		tag, (first / n).Round(time.Millisecond), float64(rss)/1e6, (move / n).Round(time.Millisecond))
}

func maxRSS(cmd *exec.Cmd) int64 {
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

// writeDockerArchive writes image tag of the overlay2 store root as docker
// save does (manifest.json, the image config, one tar per layer, the
// layer dirs' whiteout devices as .wh. entries and opaque dirs as
// .wh..wh..opq), for dive to read.
func writeDockerArchive(root, tag, file string) error {
	out, err := runBin(dlayerBin, root, "--format", "json", "layers", tag)
	if err != nil {
		return err
	}
	var doc struct {
		Image struct {
			ID string `json:"id"`
		} `json:"image"`
		Layers []struct {
			CacheID string `json:"cache_id"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return err
	}
	f, err := os.Create(file + ".tmp")
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	config, err := os.ReadFile(filepath.Join(root, "image/overlay2/imagedb/content/sha256", strings.TrimPrefix(doc.Image.ID, "sha256:")))
	if err != nil {
		return err
	}
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("config.json", config); err != nil {
		return err
	}
	var layers []string
	for i, l := range doc.Layers {
		name := fmt.Sprintf("%03d/layer.tar", i)
		layers = append(layers, name)
		tmp := filepath.Join(filepath.Dir(file), "layer.tmp")
		if err := tarDir(filepath.Join(root, "overlay2", l.CacheID, "diff"), tmp); err != nil {
			return err
		}
		lf, err := os.Open(tmp)
		if err != nil {
			return err
		}
		fi, _ := lf.Stat()
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: fi.Size(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := io.Copy(tw, lf); err != nil {
			return err
		}
		lf.Close()
		os.Remove(tmp)
	}
	manifest, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{tag}, "Layers": layers}})
	if err := add("manifest.json", manifest); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(file+".tmp", file)
}

// tarDir writes the layer dir dir as a layer tar to file.
func tarDir(dir, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	links := map[uint64]string{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0 { // a whiteout
			return tw.WriteHeader(&tar.Header{Name: filepath.Join(filepath.Dir(rel), ".wh."+filepath.Base(rel)), Typeflag: tar.TypeReg, ModTime: fi.ModTime()})
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, _ = os.Readlink(p)
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = rel
		if fi.IsDir() {
			h.Name += "/"
		}
		if fi.Mode().IsRegular() && st.Nlink > 1 {
			if first, ok := links[st.Ino]; ok {
				h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
				return tw.WriteHeader(h)
			}
			links[st.Ino] = rel
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
