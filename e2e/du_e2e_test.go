package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/clitest"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/opencontainers/go-digest"
)

// TestDUE2E builds, on a private real engine, images that share base
// layers (with a tagged alias, a dangling image and a BuildKit build),
// running, stopped and created containers with logs, then checks that
// dlayer du's Docker-defined numbers equal the engine's /system/df, that
// overlay2/ and the data root add up to du -sxB1 exactly, that a dir made
// by hand is an orphan of its exact size, that build cache dirs are not
// orphans, and, on a cp -a copy with a layer dir removed, that the layer
// is reported missing with the images it breaks.
func TestDUE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("du-base:1"); err != nil {
		t.Fatal(err)
	}
	builds := []struct{ tag, df string }{
		{"du-app:1", "FROM du-base:1\nRUN mkdir /data && echo hello > /data/a && ln /data/a /data/b\nCOPY f.txt /data/f.txt\nRUN dd if=/dev/zero of=/data/zero bs=1k count=64 2>/dev/null\n"},
		{"du-other:1", "FROM du-base:1\nRUN echo other > /other && ln -s /other /other.lnk\n"},
		{"du-dangle:1", "FROM du-base:1\nRUN echo first > /v\n"},
		{"du-dangle:1", "FROM du-base:1\nRUN echo second > /v\n"}, // leaves the first untagged: dangling
	}
	for _, bd := range builds {
		if _, err := e.Build(bd.tag, bd.df, map[string]string{"f.txt": "file\n"}); err != nil {
			t.Fatal(err)
		}
	}
	mustDocker(t, e, "tag", "du-app:1", "du-app:alias")
	buildKit(t, e, "du-bk:1", "FROM du-base:1\nRUN echo bk > /bk && mkdir /bkdir && echo x > /bkdir/x\nCOPY f.txt /f.txt\n")
	mustDocker(t, e, "run", "-d", "--network", "none", "--name", "du-running", "du-app:1", "sh", "-c", "echo r > /r; i=0; while [ $i -lt 200 ]; do echo log line $i; i=$((i+1)); done; exec sleep 3600")
	mustDocker(t, e, "run", "--network", "none", "--name", "du-stopped", "du-other:1", "sh", "-c", "dd if=/dev/zero of=/big bs=1k count=100 2>/dev/null; echo done")
	mustDocker(t, e, "create", "--network", "none", "--name", "du-created", "du-app:alias")
	if out, err := e.Docker("logs", "du-running"); err != nil || !strings.Contains(out, "log line 199") {
		t.Fatalf("running container did not log: %v %q", err, out)
	}
	df, err := e.SystemDF()
	if err != nil {
		t.Fatal(err)
	}
	if len(df.Images) < 6 || len(df.Containers) != 3 {
		t.Fatalf("/system/df lists %d images and %d containers", len(df.Images), len(df.Containers))
	}
	root := e.Root()
	orphan := filepath.Join(root, "overlay2", strings.Repeat("0f", 32))
	for name, n := range map[string]int{"diff/a": 1234, "diff/sub/b": 5000, "link": 26} {
		writeSized(t, filepath.Join(orphan, name), n)
	}

	r := duJSON(t, root)
	checkDF(t, r, df, "")
	checkDUTotals(t, r)
	if len(r.Orphans) != 1 || r.Orphans[0].Path != orphan || r.Orphans[0].Size != 1234+5000+26 {
		t.Errorf("orphans %+v, want only %s of 6260 bytes", r.Orphans, orphan)
	}
	if len(r.BuildCache) == 0 {
		t.Error("the BuildKit build left no build cache dirs")
	}
	var dangling int
	for _, im := range r.Images {
		if im.Dangling {
			dangling++
		}
	}
	merged := 0
	for _, m := range r.Mounts {
		if strings.HasSuffix(m, "/merged") {
			merged++
		}
	}
	if dangling != 1 || merged != 1 {
		t.Errorf("dangling images %d (want 1), mounts %v (want the running container's merged dir)", dangling, r.Mounts)
	}
	for _, c := range r.Containers {
		if c.Name == "du-running" && (c.LogFiles != 1 || c.LogUsage.Size < 200*30) {
			t.Errorf("du-running: logs %d files %+v", c.LogFiles, c.LogUsage)
		}
	}
	for _, f := range r.Findings {
		t.Errorf("unexpected finding on a live engine: %+v", f)
	}
	for _, view := range []string{"", "layer", "image", "container", "orphan"} {
		args := []string{"--root", root, "du"}
		if view != "" {
			args = append(args, "--by", view)
		}
		if out, errOut, code := runCLI(args...); code != 0 || out == "" {
			t.Errorf("du --by %q: exit %d: %s", view, code, errOut)
		}
	}

	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", root, cp).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	var victim *du.Layer
	for i, l := range r.Layers {
		if l.Refcount == 1 && strings.Contains(imageTags(r, l.Images[0]), "du-other:1") {
			victim = &r.Layers[i]
		}
	}
	if victim == nil {
		t.Fatal("no layer of du-other:1 alone")
	}
	if err := os.RemoveAll(filepath.Join(cp, "overlay2", victim.CacheID)); err != nil {
		t.Fatal(err)
	}
	c := duJSON(t, cp)
	checkDUTotals(t, c)
	var missing []string
	for _, f := range c.Findings {
		if f.Kind == "layer_dir_missing" {
			missing = append(missing, f.Message)
		}
	}
	if len(missing) != 1 || !strings.Contains(missing[0], "it breaks images du-other:1") || !strings.Contains(missing[0], "du-stopped") {
		t.Errorf("layer_dir_missing: %q, want one naming du-other:1 and container du-stopped", missing)
	}
}

// checkDF compares every image and container /system/df lists (by
// container name, plus suffix when the report's containers are renamed).
func checkDF(t *testing.T, r *du.Report, df engine.DF, suffix string) {
	t.Helper()
	images := map[string]du.Image{}
	for _, im := range r.Images {
		images[string(im.ID)] = im
	}
	for _, want := range df.Images {
		got, ok := images[want.ID]
		if !ok || got.Size != want.Size || got.SharedSize != want.SharedSize || got.UniqueSize != want.Size-want.SharedSize ||
			int64(got.Containers) != want.Containers || !got.Counted {
			t.Errorf("image %s %v: dlayer size %d shared %d containers %d; engine %d, %d, %d",
				want.ID, want.RepoTags, got.Size, got.SharedSize, got.Containers, want.Size, want.SharedSize, want.Containers)
		}
	}
	ctrs := map[string]du.Container{}
	for _, c := range r.Containers {
		ctrs[c.Name] = c
	}
	for _, want := range df.Containers {
		got, ok := ctrs[strings.TrimPrefix(want.Names[0], "/")+suffix]
		if !ok {
			t.Errorf("container %v%s: not in dlayer du", want.Names, suffix)
		}
		if got.SizeRw != want.SizeRw || got.SizeRootFs != want.SizeRootFs {
			t.Errorf("container %v: dlayer size_rw %d size_root_fs %d; engine %d, %d", want.Names, got.SizeRw, got.SizeRootFs, want.SizeRw, want.SizeRootFs)
		}
	}
	active := 0
	for _, im := range df.Images {
		if im.Containers > 0 {
			active++
		}
	}
	if r.Summary.Images.Count != len(df.Images) || r.Summary.Images.Active != active {
		t.Errorf("summary images %d active %d; docker system df %d active %d", r.Summary.Images.Count, r.Summary.Images.Active, len(df.Images), active)
	}
	t.Logf("/system/df: %d images, %d containers, LayersSize %d: all equal", len(df.Images), len(df.Containers), df.LayersSize)
	if r.Summary.Images.Size != df.LayersSize {
		t.Errorf("images size %d, engine LayersSize %d", r.Summary.Images.Size, df.LayersSize)
	}
}

// checkDUTotals: overlay2/ and the whole data root add up to du -sxB1.
func checkDUTotals(t *testing.T, r *du.Report) {
	t.Helper()
	for dir, got := range map[string]int64{r.DriverDir: r.Summary.DriverDir.DiskUsage, r.Root: r.Summary.Total.DiskUsage} {
		want := fixtures.DUSXB1(t, dir)
		if got != want {
			t.Errorf("%s: dlayer disk usage %d, du -sxB1 %d", dir, got, want)
		}
		t.Logf("%s: du -sxB1 %d = dlayer %d", dir, want, got)
	}
	var sum int64
	for _, l := range r.Layers {
		sum += l.DiskUsage
	}
	for _, c := range r.Containers {
		sum += c.DiskUsage + c.InitDiskUsage
	}
	for _, ds := range [][]du.Dir{r.BuildCache, r.Orphans, r.Bookkeeping} {
		for _, d := range ds {
			sum += d.DiskUsage
		}
	}
	if sum != r.Summary.DriverDir.DiskUsage {
		t.Errorf("owners + orphans + bookkeeping = %d, driver dir %d", sum, r.Summary.DriverDir.DiskUsage)
	}
}

func duJSON(t *testing.T, root string) *du.Report {
	t.Helper()
	out, errOut, code := runCLI("--root", root, "--format", "json", "du")
	return decodeDU(t, out, errOut, code)
}

// decodeDU decodes the output of dlayer --format json du.
func decodeDU(t *testing.T, out, errOut string, code int) *du.Report {
	t.Helper()
	if code != 0 {
		t.Fatalf("dlayer du: exit %d: %s", code, errOut)
	}
	var r du.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func imageTags(r *du.Report, id digest.Digest) string {
	for _, im := range r.Images {
		if im.ID == id {
			return strings.Join(im.Tags, ",")
		}
	}
	return ""
}

func mustDocker(t *testing.T, e *engine.Engine, args ...string) {
	t.Helper()
	if out, err := e.Docker(args...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// buildKit builds with BuildKit (DOCKER_BUILDKIT=1, no network), which
// the engine package's Docker never does.
func buildKit(t *testing.T, e *engine.Engine, tag, dockerfile string) {
	t.Helper()
	dir := t.TempDir()
	writeSized(t, filepath.Join(dir, "f.txt"), 5)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(engine.DockerPath, "-H", e.Host(), "build", "--network", "none", "-t", tag, dir)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "DOCKER_BUILDKIT=1", "DOCKER_CONFIG="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("BuildKit build: %v\n%s", err, out.String())
	}
}

// writeSized writes n bytes to path, making its parents.
func writeSized(t *testing.T, path string, n int) {
	t.Helper()
	clitest.WriteSized(t, path, n)
}
