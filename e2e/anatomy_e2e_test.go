package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
	"github.com/opencontainers/go-digest"
)

// The waste image: /big deleted a layer later (5,120,000 bytes),
// /over written twice (the first 2,048,000 bytes), /keep rewritten (2).
const wasteDockerfile = `FROM e2e-base:1
RUN dd if=/dev/zero of=/big bs=1k count=5000 && echo a > /keep
RUN rm /big && echo b > /keep
RUN dd if=/dev/zero of=/over bs=1k count=2000
RUN dd if=/dev/zero of=/over bs=1k count=1000
`

// wasteBytes is that image's waste, exactly; dive's inefficientBytes on
// the same image also counts the live copies of /over and /keep (8,192,004).
const wasteBytes = 5_120_000 + 2_048_000 + 2

// The opaque image: the later layer replaces /d (rm -rf, mkdir: an
// opaque dir in overlayfs), hiding /d/a (3000 bytes) and /d/sub/c (3).
const opaqueDockerfile = `FROM e2e-base:1
RUN mkdir -p /d/sub && dd if=/dev/zero of=/d/a bs=1000 count=3 && echo hi > /d/sub/c
RUN rm -rf /d && mkdir /d && echo new > /d/new
`

const opaqueHidden = 3000 + 3

// TestLayersContentsE2E: layers --contents on images a real engine built,
// on overlay2 (and its aufs twin), the legacy overlay driver and Docker
// 29's containerd store: the waste exactly, the opaque dir's hidden bytes
// exactly, and each image layer's size equal to Docker's (its history).
func TestLayersContentsE2E(t *testing.T) {
	// how the store keeps a replaced dir (checkAnatomy)
	hiddenAs := map[string]inspect.DeadKind{"overlay2": inspect.DeadHidden, "overlay": inspect.DeadDeleted, "containerd": inspect.DeadDeleted}
	for _, tc := range storeEngines() {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.ForTestWith(t, "", tc.opt)
			if _, err := e.ImportBusybox("e2e-base:1"); err != nil {
				t.Fatal(err)
			}
			for tag, df := range map[string]string{"waste:1": wasteDockerfile, "opaque:1": opaqueDockerfile} {
				if out, err := e.Build(tag, df, nil); err != nil {
					t.Fatalf("%s: %v\n%s", tag, err, out)
				}
			}
			sizes := map[string][]int64{}
			for _, tag := range []string{"waste:1", "opaque:1"} {
				for _, h := range historyLayers(t, e, tag) {
					sizes[tag] = append(sizes[tag], h.Size)
				}
			}
			var dive *diveImage
			if tc.name == "overlay2" {
				dive = runDive(t, e, "waste:1")
			}
			if err := e.Stop(); err != nil {
				t.Fatal(err)
			}
			checkAnatomy(t, e.Root(), sizes, tc.sizesFrom, hiddenAs[tc.name])
			if dive != nil {
				t.Run("vs dive", func(t *testing.T) { compareDive(t, e.Root(), dive) })
			}
			if twin, ok := storeRoots(t, tc.name, e.Root())["aufs twin"]; ok {
				t.Run("aufs twin", func(t *testing.T) { checkAnatomy(t, twin, sizes, 1, inspect.DeadHidden) })
			}
		})
	}
}

// historyEntry is an entry of the engine's image history.
type historyEntry struct {
	Size      int64
	CreatedBy string
}

// historyLayers are the entries of ref's history (GET /images/{ref}/history)
// that made a layer, oldest first.
func historyLayers(t *testing.T, e *engine.Engine, ref string) []historyEntry {
	t.Helper()
	var hist []historyEntry
	if err := e.API(http.MethodGet, "/images/"+ref+"/history", nil, &hist); err != nil {
		t.Fatal(err)
	}
	var out []historyEntry
	for i := len(hist) - 1; i >= 0; i-- {
		if !isEmptyLayer(hist[i].CreatedBy) {
			out = append(out, hist[i])
		}
	}
	return out
}

// isEmptyLayer: a history entry that made no layer (ENV, CMD…): the
// history API has no empty_layer field; the classic builder's #(nop)
// entries but ADD and COPY made none.
func isEmptyLayer(createdBy string) bool {
	return strings.Contains(createdBy, "#(nop) ") && !strings.Contains(createdBy, "#(nop) ADD") && !strings.Contains(createdBy, "#(nop) COPY")
}

// checkAnatomy checks layers --contents of the images on root. sizes are
// each layer's size in docker history, compared from layer from on (0:
// none): the legacy overlay driver's layerdb size of an imported layer is
// its tar's file bytes, without the st_size of its symlinks; Docker 29's
// history on the containerd store gives each snapshot's disk usage
// (blocks), not a content size. hiddenAs is
// how the store keeps the opaque image's replaced dir.
func checkAnatomy(t *testing.T, root string, sizes map[string][]int64, from int, hiddenAs inspect.DeadKind) {
	t.Helper()
	get := func(tag string) *anatomy.Report {
		out, errOut, code := runCLI("--root", root, "--mountinfo", "none", "--daemon", "off", "--format", "json", "layers", "--contents", tag)
		if code != 0 {
			t.Fatalf("layers --contents %s: exit %d: %s", tag, code, errOut)
		}
		var r anatomy.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if !r.Complete {
			t.Errorf("%s: incomplete: %v", tag, r.Findings)
		}
		if from > 0 {
			for i, l := range r.Layers {
				if l.Position >= from && i < len(sizes[tag]) && l.Size != sizes[tag][i] {
					t.Errorf("%s layer %d: size %d, docker history %d", tag, l.Position, l.Size, sizes[tag][i])
				}
			}
		}
		return &r
	}
	w := get("waste:1")
	text, _, _ := runCLI("--root", root, "--mountinfo", "none", "--daemon", "off", "layers", "--contents", "waste:1")
	t.Logf("dlayer layers --contents waste:1\n%s", text)
	if w.Waste.Bytes != wasteBytes || w.Waste.Entries != 3 {
		t.Errorf("waste:1: waste %d bytes in %d files, want %d in 3: %+v", w.Waste.Bytes, w.Waste.Entries, wasteBytes, w.Waste.Groups)
	}
	n := len(w.Layers)
	want := map[string]int64{"/big": 5_120_000, "/over": 2_048_000, "/keep": 2}
	for _, p := range w.Waste.Paths {
		if want[p.Path] != p.Bytes {
			t.Errorf("waste:1: %s: %d bytes, want %d", p.Path, p.Bytes, want[p.Path])
		}
		if p.Path == "/big" && (p.Kind != inspect.DeadDeleted || p.Layer != n-3 || p.By != n-2) {
			t.Errorf("/big: %+v, want deleted in layer %d by %d", p, n-3, n-2)
		}
	}
	// overlay2 keeps rm -rf /d && mkdir /d as an opaque dir; the legacy
	// driver's root/ and the containerd store's snapshot (unpacked from
	// the layer's tar) as one deletion per entry: hidden or deleted, the
	// same bytes
	o := get("opaque:1")
	var gone int64
	for _, g := range o.Waste.Groups {
		if g.Kind == hiddenAs {
			gone += g.Bytes
		}
	}
	if gone != opaqueHidden || o.Waste.Bytes != opaqueHidden {
		t.Errorf("opaque:1: %s %d bytes, waste %d; want %d: %+v", hiddenAs, gone, o.Waste.Bytes, opaqueHidden, o.Waste.Groups)
	}
}

// diveImage is the part of dive --json's output compared.
type diveImage struct {
	Image struct {
		SizeBytes        int64 `json:"sizeBytes"`
		InefficientBytes int64 `json:"inefficientBytes"`
		FileReference    []struct {
			Count     int    `json:"count"`
			SizeBytes int64  `json:"sizeBytes"`
			File      string `json:"file"`
		} `json:"fileReference"`
	} `json:"image"`
	// live is each path's size in the image's merged view (absent: -1).
	live map[string]int64
}

// diveVersion is the dive make deps builds for the comparison (never
// used by dlayer itself).
const diveVersion = "v0.13.1"

// runDive runs dive --json on docker save's archive of tag, and reads the
// live size of each file it names from a container of the image.
func runDive(t *testing.T, e *engine.Engine, tag string) *diveImage {
	t.Helper()
	bin := engine.NeedTool(t, "dive")
	dir := t.TempDir()
	tar, out := filepath.Join(dir, "image.tar"), filepath.Join(dir, "dive.json")
	if o, err := e.Docker("save", "-o", tar, tag); err != nil {
		t.Fatalf("docker save: %v\n%s", err, o)
	}
	cmd := exec.Command(bin, "--source", "docker-archive", tar, "--json", out)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dive %s: %v\n%s", diveVersion, err, o)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var d diveImage
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dive's JSON: %v", err)
	}
	d.live = map[string]int64{}
	for _, f := range d.Image.FileReference {
		o, err := e.Docker("run", "--rm", "--network", "none", tag, "sh", "-c", "if [ -e "+f.File+" ]; then wc -c < "+f.File+"; else echo -1; fi")
		if err != nil {
			t.Fatalf("%s: %v\n%s", f.File, err, o)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(o), 10, 64)
		if err != nil {
			t.Fatalf("%s: size %q", f.File, o)
		}
		d.live[f.File] = n
	}
	return &d
}

// compareDive: dive's inefficientBytes counts every copy of a path more
// than one layer holds, the live one included, and deleted files; dlayer's
// waste counts the copies no container sees. Path by path, dive's bytes
// are dlayer's waste plus the live copy.
func compareDive(t *testing.T, root string, d *diveImage) {
	out, errOut, code := runCLI("--root", root, "--mountinfo", "none", "--daemon", "off", "--format", "json", "layers", "--contents", "waste:1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r anatomy.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if d.Image.InefficientBytes != 8_192_004 || r.Waste.Bytes != wasteBytes {
		t.Errorf("dive's inefficientBytes %d (want 8192004), dlayer's waste %d (want %d)", d.Image.InefficientBytes, r.Waste.Bytes, wasteBytes)
	}
	ours := map[string]int64{}
	for _, p := range r.Waste.Paths {
		ours[p.Path] += p.Bytes
	}
	var live int64
	for _, f := range d.Image.FileReference {
		l := max(d.live[f.File], 0)
		live += l
		if ours[f.File]+l != f.SizeBytes {
			t.Errorf("%s: dive %d bytes in %d copies; dlayer's waste %d + the live copy %d", f.File, f.SizeBytes, f.Count, ours[f.File], l)
		}
	}
	if r.Waste.Bytes+live != d.Image.InefficientBytes {
		t.Errorf("dlayer's waste %d + the live copies %d != dive's inefficientBytes %d", r.Waste.Bytes, live, d.Image.InefficientBytes)
	}
	t.Logf("dive %s: inefficientBytes %d = dlayer's waste %d + %d bytes of live copies dive counts too", diveVersion, d.Image.InefficientBytes, r.Waste.Bytes, live)
}

// The lesson's build: change only hello.txt and rebuild, and only the
// COPY step and those after it are rebuilt.
const lessonDockerfile = `FROM e2e-base:1
RUN echo "layer1" > /msg.txt
RUN mkdir -p /opt/tool && cp /bin/busybox /opt/tool/busybox
COPY hello.txt /opt/hello.txt
ENV GREETING=hello
CMD ["cat", "/opt/hello.txt"]
`

// TestLayersCompareE2E: layers --compare on the lesson's two builds, with
// the classic builder (whose history names the COPY's content by hash)
// and with BuildKit (whose history does not: the files say it): the
// three shared layers, the COPY step as the first difference, and
// hello.txt with both sha256s.
func TestLayersCompareE2E(t *testing.T) {
	for _, tc := range storeEngines() {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.ForTestWith(t, "", tc.opt)
			if _, err := e.ImportBusybox("e2e-base:1"); err != nil {
				t.Fatal(err)
			}
			hello := []string{"hello\n", "hello, world\n"}
			for i, h := range hello {
				files := map[string]string{"hello.txt": h}
				if out, err := e.Build("lesson:"+strconv.Itoa(i+1), lessonDockerfile, files); err != nil {
					t.Fatalf("classic build: %v\n%s", err, out)
				}
				if out, err := e.BuildKit("lesson-bk:"+strconv.Itoa(i+1), lessonDockerfile, files); err != nil {
					t.Fatalf("BuildKit build: %v\n%s", err, out)
				}
			}
			if err := e.Stop(); err != nil {
				t.Fatal(err)
			}
			roots := storeRoots(t, tc.name, e.Root())
			for name, root := range roots {
				for prefix, reason := range map[string]anatomy.Reason{"lesson": anatomy.ReasonCopySource, "lesson-bk": anatomy.ReasonContent} {
					checkCompare(t, name, root, prefix, reason, hello)
				}
			}
		})
	}
}

func checkCompare(t *testing.T, name, root, prefix string, reason anatomy.Reason, hello []string) {
	t.Helper()
	args := []string{"--root", root, "--mountinfo", "none", "--daemon", "off", "layers", "--compare", prefix + ":1", prefix + ":2"}
	out, errOut, code := runCLI(append([]string{"--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d: %s", name, prefix, code, errOut)
	}
	var c anatomy.Comparison
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	want := []anatomy.FileDiff{{Path: "/opt/hello.txt", TypeA: "file", TypeB: "file", SizeA: int64(len(hello[0])), SizeB: int64(len(hello[1])),
		HashA: digestOf(hello[0]), HashB: digestOf(hello[1])}}
	if len(c.Shared) != 3 || c.Position != 4 || c.Reason != reason || !slices.Equal(c.Files, want) || len(c.AfterA) != 1 || len(c.AfterB) != 1 {
		t.Errorf("%s %s: %d shared, first difference at %d (%s), files %+v, after %d/%d; want 3 shared, the COPY at 4 (%s), %+v, 1 after each",
			name, prefix, len(c.Shared), c.Position, c.Reason, c.Files, len(c.AfterA), len(c.AfterB), reason, want)
	}
	if !strings.Contains(c.InstructionA, "COPY") {
		t.Errorf("%s %s: the first difference is %q, not the COPY", name, prefix, c.InstructionA)
	}
	text, _, _ := runCLI(args...)
	t.Logf("%s: dlayer layers --compare %s:1 %s:2\n%s", name, prefix, prefix, text)
	for _, w := range []string{"Shared: 3 layers", "First difference: layer 4.", "/opt/hello.txt", digestOf(hello[0])[:12]} {
		if !strings.Contains(text, w) {
			t.Errorf("%s %s: no %q in\n%s", name, prefix, w, text)
		}
	}
}

func digestOf(s string) string { return digest.FromString(s).Encoded() }

// storeEngine is an engine a per-store test runs.
type storeEngine struct {
	name string
	opt  engine.Options
	// sizesFrom: from which image layer (1 = base) docker history's sizes
	// are the layer's content size, as dlayer gives it (0: none). The
	// legacy overlay driver's layerdb size of an imported layer is its
	// tar's file bytes, without the st_size of its symlinks; Docker 29's
	// history on the containerd store gives each snapshot's disk usage
	// (blocks), not a content size.
	sizesFrom int
}

// storeEngines are the engines of the tests that check a feature on
// every store: overlay2, the legacy overlay driver, Docker 29's
// containerd store (and, through storeRoots, overlay2's aufs twin).
func storeEngines() []storeEngine {
	return []storeEngine{
		{"overlay2", engine.Options{}, 1},
		{"overlay", engine.Options{StorageDriver: "overlay"}, 2},
		{"containerd", engine.Options{Kind: engine.Docker29}, 0},
	}
}

// storeRoots are the data roots to check of a stopped engine's root:
// the root itself, and for overlay2 its aufs twin, by name.
func storeRoots(t *testing.T, name, root string) map[string]string {
	t.Helper()
	roots := map[string]string{name: root}
	if name == "overlay2" {
		twin := filepath.Join(t.TempDir(), "aufs")
		if _, err := fixtures.AUFSTwin(root, twin, fixtures.TwinOptions{}); err != nil {
			t.Fatal(err)
		}
		roots["aufs twin"] = twin
	}
	return roots
}
