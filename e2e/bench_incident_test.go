package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkIncidentCommands times the incident commands (the binary, as a
// child process) on the big synthetic store of BenchmarkDUVsCoreutils
// (40-layer images, about a million files): images, layers, whose on a
// layer dir and on a file deep in a layer, and ps. None of them walks a
// layer tree, so each should answer in well under a second whatever the
// store's size. It reports each one's mean wall time and the largest peak
// RSS. Run it with -benchtime Nx.
func BenchmarkIncidentCommands(b *testing.B) {
	root, bin := bigStore(b)
	ents, err := os.ReadDir(filepath.Join(root, "overlay2"))
	if err != nil {
		b.Fatal(err)
	}
	var layer string
	for _, e := range ents {
		if e.Name() != "l" && len(e.Name()) == 64 {
			layer = e.Name()
			break
		}
	}
	names, err := os.ReadDir(filepath.Join(root, "overlay2", layer, "diff"))
	if err != nil || len(names) == 0 {
		b.Fatalf("layer %s: %v", layer, err)
	}
	file := "overlay2/" + layer + "/diff/" + names[0].Name()
	out, err := runBin(bin, root, "--format", "json", "images")
	if err != nil {
		b.Fatal(err)
	}
	image := firstTag(string(out))
	cmds := map[string][]string{
		"images":      {"images"},
		"layers":      {"layers", image},
		"whose-layer": {"--mountinfo", "none", "whose", "overlay2/" + layer},
		"whose-file":  {"--mountinfo", "none", "whose", file},
		"ps":          {"ps"},
	}
	keys := make([]string, 0, len(cmds))
	for k := range cmds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	walls := map[string]time.Duration{}
	var rss int64
	for i := 0; i < b.N; i++ {
		for _, k := range keys {
			start := time.Now()
			cmd := cmdBin(bin, root, cmds[k]...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%s: %v\n%s", k, err, out)
			}
			walls[k] += time.Since(start)
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				rss = max(rss, ru.Maxrss*1024)
			}
		}
	}
	var line []string
	for _, k := range keys {
		sec := walls[k].Seconds() / float64(b.N)
		b.ReportMetric(sec, k+"-sec")
		line = append(line, k+" "+time.Duration(sec*float64(time.Second)).Round(time.Millisecond).String())
	}
	b.ReportMetric(float64(rss)/1e6, "maxrss-MB")
	b.Logf("big store (%s): %s; peak RSS %.1f MB", image, strings.Join(line, ", "), float64(rss)/1e6)
}

// cmdBin is the dlayer binary run on root with args.
func cmdBin(bin, root string, args ...string) *exec.Cmd {
	return exec.Command(bin, append([]string{"--root", root, "--daemon", "off"}, args...)...)
}

func runBin(bin, root string, args ...string) ([]byte, error) {
	return cmdBin(bin, root, args...).Output()
}

// firstTag is the first tag in dlayer images --format json.
func firstTag(js string) string {
	var doc struct {
		Images []struct {
			Tags []string `json:"tags"`
		} `json:"images"`
	}
	if json.Unmarshal([]byte(js), &doc) != nil {
		return ""
	}
	for _, r := range doc.Images {
		if len(r.Tags) > 0 {
			return r.Tags[0]
		}
	}
	return ""
}
