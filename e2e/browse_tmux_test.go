package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/report"
	"github.com/opencontainers/go-digest"
)

// tmuxScreen drives a program in a private tmux server (its own socket:
// no user's session is touched) on a 100×30 window.
type tmuxScreen struct {
	t          testing.TB
	tmux, sock string
}

func newTmuxScreen(t testing.TB, command string) *tmuxScreen {
	t.Helper()
	s := &tmuxScreen{t: t, tmux: engine.NeedTool(t, "tmux"), sock: filepath.Join(t.TempDir(), "tmux.sock")}
	s.run("new-session", "-d", "-x", "100", "-y", "30", "-s", "b", command)
	t.Cleanup(func() { _ = exec.Command(s.tmux, "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *tmuxScreen) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.tmux, append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends keys (tmux key names) one by one.
func (s *tmuxScreen) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.run("send-keys", "-t", "b", k)
	}
}

// wait is the screen once it shows every one of want and has settled (two
// captures 50 ms apart the same: no frame half drawn), 10 s at most.
func (s *tmuxScreen) wait(want ...string) string {
	s.t.Helper()
	return s.waitFor(10*time.Second, want...)
}

// waitFor is wait, d at most.
func (s *tmuxScreen) waitFor(d time.Duration, want ...string) string {
	s.t.Helper()
	var screen, last string
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		screen = s.run("capture-pane", "-p", "-t", "b")
		ok := screen == last
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		if ok {
			return screen
		}
		last = screen
	}
	s.t.Fatalf("the screen never showed %q:\n%s", want, screen)
	return ""
}

// TestBrowseTmux drives dlayer browse in a real terminal (tmux) on the demo
// store's container web: the first screen, a layer's own changes, the
// origin of a copied-up file, a whiteout and an opaque dir's hidden
// entries, a filter, the search, q restoring the terminal with exit 0.
func TestBrowseTmux(t *testing.T) {
	root := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{}).Root
	s := newTmuxScreen(t, fmt.Sprintf("%s --root %s --mountinfo none --daemon off browse web; echo EXIT=$?; sleep 600", dlayerBin, root))
	first := s.wait("TREE as of rw", "q quit")
	for _, want := range []string{"LAYERS (top first)", "> rw", "init", "L1", "config.yml", "ENTRY"} {
		if !strings.Contains(first, want) {
			t.Errorf("first screen lacks %q:\n%s", want, first)
		}
	}
	// the README's screen: the cursor on the copied-up config.yml
	s.keys("Tab", "Down", "Down", "Down", "Down", "Down", "Down", "Down", "Down")
	checkReadmeScreen(t, s.wait("\n /app/config.yml"))
	s.keys("Tab")
	// down to L3: its own entries marked (A), a rewrite above (^)
	s.keys("Down", "Down", "Down")
	if sc := s.wait("TREE as of L3"); !strings.Contains(sc, "> L3") || !strings.Contains(sc, " A^ -rwxr-xr-x") {
		t.Errorf("L3's changes not marked:\n%s", sc)
	}
	// back to rw; the copied-up config.yml names the layer it came from
	s.keys("Home", "Tab", "/", "c", "o", "n", "f", "i", "g", "Enter")
	if sc := s.wait("TREE as of rw", "/config"); !strings.Contains(sc, "from rw: modified over L") {
		t.Errorf("config.yml's origin not shown:\n%s", sc)
	}
	// deleted: the whiteout of /bin/ls and the opaque /app/data's hidden entries
	s.keys("Escape", "d")
	sc := s.wait("· deleted")
	for _, want := range []string{" D  -rwxr-xr-x", " ls", " H  -rw-r--r--"} {
		if !strings.Contains(sc, want) {
			t.Errorf("deleted filter lacks %q:\n%s", want, sc)
		}
	}
	if strings.Contains(sc, "blob.img") {
		t.Errorf("deleted filter keeps an added file:\n%s", sc)
	}
	s.keys("q")
	sc = s.wait("EXIT=")
	if !strings.Contains(sc, "EXIT=0") || strings.Contains(sc, "LAYERS") {
		t.Errorf("q: not exit 0 on a restored terminal:\n%s", sc)
	}
}

// checkReadmeScreen compares a screen with the one the README shows (and
// docs/browse.md), the ctimes aside: the fixture store is made anew.
func checkReadmeScreen(t *testing.T, screen string) {
	t.Helper()
	ctime := regexp.MustCompile(`ctime \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`)
	norm := func(s string) string {
		var lines []string
		for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			lines = append(lines, strings.TrimRight(l, " "))
		}
		return ctime.ReplaceAllString(strings.Join(lines, "\n"), "ctime …")
	}
	for _, doc := range []string{"README.md", "docs/browse.md"} {
		b, err := os.ReadFile(filepath.Join("..", doc))
		if err != nil {
			t.Fatal(err)
		}
		_, shown, ok := strings.Cut(string(b), "```\n dlayer browse · container web")
		shown, _, _ = strings.Cut(shown, "\n```")
		if got, want := norm(screen), norm(" dlayer browse · container web"+shown); !ok || got != want {
			t.Errorf("%s shows another screen than dlayer browse draws now (recapture it):\n%s", doc, firstDiff(want, got))
		}
	}
}

// The browse image: a RUN layer, a COPY, an empty ENV, a RUN that chmods a
// file of the first (a rewrite: the first's copy is waste).
const browseDockerfile = `FROM browse-base:1
RUN mkdir -p /data/sub && echo hello > /data/a && echo b > /data/sub/b && echo keep > /data/k && echo four > /data/four
COPY f.txt /data/f.txt
ENV X=1
RUN chmod 600 /data/k
`

// browseRun is what the container does: a whiteout, an opaque dir, a
// copy-up by append, a copy-up unchanged (opened for writing), a setuid
// file and a name carrying an escape sequence that would retitle the
// terminal if it reached it raw.
var browseRun = strings.Join([]string{
	"rm /bin/ls", "rm -rf /data/sub", "mkdir /data/sub", "echo n > /data/sub/n", "echo x >> /data/a",
	"exec 3>>/data/four", "cp /bin/busybox /data/suid", "chmod 4755 /data/suid",
	`touch "/data/$(printf 'evil\033]0;pwned\007')"`,
}, "; ")

// TestBrowseTmuxEngine drives dlayer browse on a real engine's container
// and on its image, on every store (overlay2 and its aufs twin, the legacy
// overlay driver, Docker 29's containerd store), each screen checked
// against Docker's own answers: the layers and their sizes against docker
// history and the image's RootFS (chain IDs computed from its diff IDs),
// the writable layer's size against docker inspect --size, its marks and
// the added, changed and deleted filters against docker diff, the origin
// of a copied-up file against the instruction docker history names for
// its layer, its sha256 against the bytes the container wrote. A name
// carrying an escape sequence shows escaped and does not retitle the
// terminal; q exits 0 on a restored screen.
func TestBrowseTmuxEngine(t *testing.T) {
	for _, tc := range storeEngines() {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.ForTestWith(t, "", tc.opt)
			a := browseScenario(t, e)
			a.sizesFrom = tc.sizesFrom
			// Docker 29's classic builder runs each RUN on a build
			// container's init snapshot, kept below the RUN's layer in the
			// chain the container mounts
			a.buildInits = tc.opt.Kind == engine.Docker29
			if tc.opt.StorageDriver == "overlay" {
				a.initCopies = initCopies(t, e)
			}
			checkBrowse(t, e.Root(), a)
			if err := e.Stop(); err != nil {
				t.Fatal(err)
			}
			if twin, ok := storeRoots(t, tc.name, e.Root())["aufs twin"]; ok {
				t.Run("aufs twin", func(t *testing.T) { checkBrowse(t, twin, a) })
			}
		})
	}
}

// browseAnswers are Docker's answers on the browse scenario.
type browseAnswers struct {
	diff      []engine.Change
	byKind    map[string][]string // docker diff's escaped paths by letter
	layers    []dockerLayer
	id        string // the image's
	sizeRw    int64
	sizesFrom int // storeEngine.sizesFrom
	// buildInits: a build container's init snapshot below each RUN layer
	buildInits bool
	// initCopies: the files the legacy overlay driver copies from the
	// init layer's upper dir into a new rw layer's (absolute paths)
	initCopies []string
}

// browseScenario builds the browse image, runs its container and asks
// Docker about both.
func browseScenario(t *testing.T, e *engine.Engine) browseAnswers {
	t.Helper()
	if _, err := e.ImportBusybox("browse-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("browse:1", browseDockerfile, map[string]string{"f.txt": "file\n"}); err != nil {
		t.Fatal(err)
	}
	if out, err := e.Docker("run", "--network", "none", "--name", "box", "browse:1", "sh", "-c", browseRun); err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	a := browseAnswers{byKind: map[string][]string{}, layers: dockerLayers(t, e, "browse:1")}
	var err error
	if a.diff, err = e.Changes("box"); err != nil {
		t.Fatal(err)
	}
	for _, c := range a.diff {
		a.byKind[c.Letter()] = append(a.byKind[c.Letter()], report.Escape(c.Path))
	}
	t.Logf("docker diff box: %v", a.diff)
	if a.id, err = e.Docker("image", "inspect", "-f", "{{.Id}}", "browse:1"); err != nil {
		t.Fatal(err)
	}
	a.id = strings.TrimSpace(a.id)
	out, err := e.Docker("container", "inspect", "--size", "-f", "{{.SizeRw}}", "box")
	if err != nil {
		t.Fatal(err)
	}
	if a.sizeRw, err = strconv.ParseInt(strings.TrimSpace(out), 10, 64); err != nil {
		t.Fatalf("SizeRw %q: %v", out, err)
	}
	return a
}

// checkBrowse drives dlayer browse on root's container box and image
// browse:1 and checks each screen against a.
func checkBrowse(t *testing.T, root string, a browseAnswers) {
	diff, byKind, layers := a.diff, a.byKind, a.layers
	t.Run("container", func(t *testing.T) {
		s := newTmuxScreen(t, fmt.Sprintf("%s --root %s --mountinfo none --daemon off browse box; echo EXIT=$?; sleep 600", dlayerBin, root))
		title := s.run("display", "-p", "-t", "b", "#{pane_title}")
		first := s.wait("TREE as of rw", "q quit")
		if !strings.Contains(first, "container box (") || !strings.Contains(first, "image browse:1") {
			t.Errorf("header does not name the container and its image:\n%s", first)
		}
		stack := append([]string{"rw", "init"}, labels(a)...)
		checkLayerList(t, first, stack, a)
		// the containerd store's SizeRw is the snapshot's disk usage
		if rw := layerSizes(first)["rw"]; a.sizesFrom > 0 && rw != report.HumanBytes(a.sizeRw) {
			t.Errorf("rw: size %s, docker inspect --size says SizeRw %d (%s)", rw, a.sizeRw, report.HumanBytes(a.sizeRw))
		}
		checkLayerInfos(t, s, stack, layers)

		// L2, the first RUN: its own entries marked, and what the layers
		// above do to each (L4's chmod rewrites k; the container appends to
		// a, opens four for writing, and its opaque sub hides b)
		s.toLayer(stack, "L2")
		sc := s.wait("TREE as of L2 ·")
		want := map[string]string{"/data": "A ", "/data/a": "A^", "/data/four": "A^", "/data/k": "A^", "/data/sub": "A ", "/data/sub/b": "Ax"}
		if got := marksUnder(treeRows(t, sc), "/data"); !maps.Equal(got, want) {
			t.Errorf("L2's marks under /data: %v, want %v\n%s", got, want, sc)
		}

		// rw: the filters against docker diff
		s.keys("Home", "Tab")
		s.wait("TREE as of rw ·")
		// docker diff's C entries that are more than a dir copied up as the
		// parent of a change, and the file copied up unchanged (opened for
		// writing) that docker diff, comparing with the lower file, omits
		changed := []string{"/data/a", "/data/sub"}
		for _, p := range changed {
			if !slices.Contains(byKind["C"], p) {
				t.Errorf("docker diff does not say %s changed: %v", p, diff)
			}
		}
		if slices.ContainsFunc(diff, func(c engine.Change) bool { return c.Path == "/data/four" }) {
			t.Errorf("docker diff lists /data/four, copied up unchanged: %v", diff)
		}
		marked := func(marks string) func(treeLine) bool {
			return func(r treeLine) bool { return strings.ContainsRune(marks, rune(r.marks[0])) }
		}
		for _, f := range []struct {
			key, title string
			keep       func(treeLine) bool // the lines the filter is for (the rest are their parents)
			want       []string
		}{
			{"a", "added", marked("A"), byKind["A"]},
			{"d", "deleted", marked("DH"), byKind["D"]},
			{"c", "changed", func(r treeLine) bool { return marked("MmCO")(r) && !(r.dir && r.marks[0] == 'C') }, append(append(changed, "/data/four"), a.initCopies...)},
			{"s", "setuid", func(r treeLine) bool { return !r.dir }, []string{"/data/suid"}},
		} {
			s.keys(f.key)
			sc := s.wait("TREE as of rw · ", "· "+f.title+" ◂")
			var got []string
			for _, r := range treeRows(t, sc) {
				if f.keep(r) {
					got = append(got, r.path)
				}
			}
			sort.Strings(got)
			sort.Strings(f.want)
			if !slices.Equal(got, f.want) {
				t.Errorf("filter %s: %q, want %q (docker diff: %v)\n%s", f.title, got, f.want, diff, sc)
			}
			s.keys(f.key)
		}

		// the copied-up /data/a: modified over L2, the RUN docker history names
		s.keys("/", "/", "d", "a", "t", "a", "/", "a", "Enter")
		sc = s.wait("TREE as of rw · 2 lines · //data/a", "from rw: modified over L2's")
		l2 := layers[len(layers)-2]
		if !strings.Contains(sc, "L2 made by "+l2.instruction[:30]) {
			t.Errorf("/data/a: origin not L2's %q:\n%s", l2.instruction, sc)
		}
		s.keys("#")
		s.wait(" " + string(digest.FromString("hello\nx\n"))) // the bytes the container wrote
		s.keys("Escape", "/", "f", "o", "u", "r", "Enter")
		s.wait("TREE as of rw · 2 lines · /four", "from rw: copied up unchanged from L2 · L2 made by "+l2.instruction[:20])

		// a name carrying OSC 0 (set the window title) shows escaped
		s.keys("Escape", "/", "e", "v", "i", "l", "Enter")
		sc = s.wait("TREE as of rw · 2 lines · /evil")
		if !strings.Contains(sc, `evil\x1b]0;pwned\a`) {
			t.Errorf("the hostile name is not escaped:\n%s", sc)
		}
		if now := s.run("display", "-p", "-t", "b", "#{pane_title}"); now != title || strings.Contains(now, "pwned") {
			t.Errorf("the terminal's title changed from %q to %q: a raw escape sequence reached it", title, now)
		}
		s.keys("q")
		sc = s.wait("EXIT=")
		if !strings.Contains(sc, "EXIT=0") || strings.Contains(sc, "LAYERS") {
			t.Errorf("q: not exit 0 on a restored terminal:\n%s", sc)
		}
	})

	t.Run("image", func(t *testing.T) {
		s := newTmuxScreen(t, fmt.Sprintf("%s --root %s --mountinfo none --daemon off browse browse:1; echo EXIT=$?; sleep 600", dlayerBin, root))
		first := s.wait("TREE as of L4", "q quit")
		if h := fmt.Sprintf("image browse:1 (%s) · %d layers", inspect.ShortID(a.id), len(layers)); !strings.Contains(first, h) {
			t.Errorf("header lacks %q:\n%s", h, first)
		}
		checkLayerList(t, first, labels(browseAnswers{layers: layers}), a)
		checkLayerInfos(t, s, labels(browseAnswers{layers: layers}), layers)
		// L4's chmod: a full copy of k (modified), L2's k wasted under it
		s.keys("Home", "Tab")
		sc := s.wait("TREE as of L4 ·")
		if got, want := marksUnder(treeRows(t, sc), "/data"), map[string]string{"/data": "C ", "/data/k": "M "}; !maps.Equal(got, want) {
			t.Errorf("L4's marks under /data: %v, want %v\n%s", got, want, sc)
		}
		s.keys("Tab", "Down", "Down", "Tab", "w")
		sc = s.wait("TREE as of L2 · ", "· wasted ◂")
		var wasted []string
		for _, r := range treeRows(t, sc) {
			if !r.dir {
				wasted = append(wasted, r.path)
			}
		}
		if !slices.Equal(wasted, []string{"/data/k"}) {
			t.Errorf("wasted as of L2: %q, want [/data/k] (L4 rewrites it)\n%s", wasted, sc)
		}
		s.keys("q")
		if sc := s.wait("EXIT="); !strings.Contains(sc, "EXIT=0") {
			t.Errorf("q: not exit 0:\n%s", sc)
		}
	})
}

// dockerLayer is an image layer as Docker tells it: docker history's row
// (its instruction as dlayer words it, its size) and the chain ID computed
// from the image's RootFS diff IDs.
type dockerLayer struct {
	pos                int // 1 = base
	label, instruction string
	size               int64
	chain              digest.Digest
}

// dockerLayers are ref's layers, top first, from the engine's history
// (historyLayers) and docker image inspect's RootFS.Layers.
func dockerLayers(t *testing.T, e *engine.Engine, ref string) []dockerLayer {
	t.Helper()
	out, err := e.Docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", ref)
	if err != nil {
		t.Fatal(err)
	}
	var diffIDs []digest.Digest
	if err := json.Unmarshal([]byte(out), &diffIDs); err != nil {
		t.Fatalf("RootFS.Layers %q: %v", out, err)
	}
	hist := historyLayers(t, e, ref)
	if len(hist) != len(diffIDs) {
		t.Fatalf("the history has %d layers, RootFS %d: %+v", len(hist), len(diffIDs), hist)
	}
	layers := make([]dockerLayer, len(hist))
	for k, chain := range chainIDs(diffIDs) {
		l := &layers[len(layers)-1-k]
		*l = dockerLayer{pos: k + 1, label: "L" + strconv.Itoa(k+1), instruction: report.Instruction(hist[k].CreatedBy), size: hist[k].Size, chain: chain}
	}
	return layers
}

// labels are the image layers' labels top first, and below each RUN
// layer its build container's init where a.buildInits.
func labels(a browseAnswers) []string {
	var out []string
	for _, l := range a.layers {
		out = append(out, l.label)
		if a.buildInits && strings.HasPrefix(l.instruction, "RUN ") {
			out = append(out, "binit")
		}
	}
	return out
}

// initCopies are the files of the container box's init layer upper dir
// on the legacy overlay driver (overlay/<id>-init/upper beside its rw
// layer's dir), which the driver copies into the rw layer's upper.
func initCopies(t *testing.T, e *engine.Engine) []string {
	t.Helper()
	ci, err := e.InspectContainer("box")
	if err != nil {
		t.Fatal(err)
	}
	up := ci.GraphDriver.Data["UpperDir"]
	initUp := filepath.Join(filepath.Dir(up)+"-init", "upper")
	var out []string
	err = filepath.WalkDir(initUp, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, initUp))
		}
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("the init layer's upper dir %s: %v, %d files", initUp, err, len(out))
	}
	return out
}

// checkLayerList checks the layer list of a screen: the labels top first,
// each image layer's size as docker history gives it (where the store's
// history gives the content size: a.sizesFrom).
func checkLayerList(t *testing.T, screen string, want []string, a browseAnswers) {
	t.Helper()
	var got []string
	for _, l := range layerLines(screen) {
		got = append(got, l[0])
	}
	if !slices.Equal(got, want) {
		t.Errorf("layer list %q, want %q:\n%s", got, want, screen)
	}
	size := layerSizes(screen)
	for _, l := range a.layers {
		if a.sizesFrom > 0 && l.pos >= a.sizesFrom && size[l.label] != report.HumanBytes(l.size) {
			t.Errorf("%s: size %s, docker history says %d (%s)", l.label, size[l.label], l.size, report.HumanBytes(l.size))
		}
	}
}

// layerLines are the layer list's lines of a screen, as fields: the
// label, the size, then the waste and the instruction.
func layerLines(screen string) [][]string {
	var out [][]string
	for _, l := range strings.Split(screen, "\n")[2:] {
		left, _, _ := strings.Cut(l, "│")
		f := strings.Fields(strings.TrimPrefix(left, ">"))
		if len(f) < 2 {
			break
		}
		out = append(out, f)
	}
	return out
}

// layerSizes are the sizes the layer list shows, by label.
func layerSizes(screen string) map[string]string {
	out := map[string]string{}
	for _, f := range layerLines(screen) {
		out[f[0]] = f[1]
	}
	return out
}

// checkLayerInfos selects each image layer in turn (stack: the labels of
// the layer list, top first) and checks what the screen says of it: the
// chain ID (computed from the image's diff IDs), docker history's
// instruction.
func checkLayerInfos(t *testing.T, s *tmuxScreen, stack []string, layers []dockerLayer) {
	t.Helper()
	for _, l := range layers {
		sc := s.toLayer(stack, l.label)
		info := l.label + ": read-only image layer, chain " + l.chain.Encoded()[:6]
		words := shortHex.ReplaceAllString(l.instruction, "$1…")
		if !strings.Contains(sc, info) || !strings.Contains(sc, words[:min(len(words), 30)]) {
			t.Errorf("%s: the screen lacks %q or the instruction %q:\n%s", l.label, info, words, sc)
		}
	}
}

// toLayer selects the layer labeled label in the layer list (stack, its
// labels top first) and returns the screen.
func (s *tmuxScreen) toLayer(stack []string, label string) string {
	s.t.Helper()
	i := slices.Index(stack, label)
	if i < 0 {
		s.t.Fatalf("no layer %s in %q", label, stack)
	}
	s.keys("Home")
	for ; i > 0; i-- {
		s.keys("Down")
	}
	return s.wait("TREE as of " + label + " ·")
}

// shortHex is how browse shows a COPY's source hash: Docker's 12 hex.
var shortHex = regexp.MustCompile(`([0-9a-f]{12})[0-9a-f]{52,}`)

// treeLine is one line of the tree pane as the screen shows it.
type treeLine struct {
	path  string // the full path, rebuilt from the indentation
	marks string // the own mark and the fate above
	dir   bool
}

// treeRows parses the tree pane of a captured screen (its window must start
// at the tree's top, so that each line's parents are above it). A line is
// the cursor, two marks, mode, size, the providing layer (4 cells at
// least), then the name indented two cells per level, after a twisty
// for a dir and two spaces for anything else.
func treeRows(t *testing.T, screen string) []treeLine {
	t.Helper()
	var out []treeLine
	var stack []string
	lines := strings.Split(screen, "\n")
	for _, l := range lines[2:] {
		_, right, ok := strings.Cut(l, "│")
		if !ok {
			break
		}
		r := []rune(right)
		if len(r) < 24 || strings.TrimSpace(right) == "" {
			continue
		}
		rest := string(r[23:])
		from, _, _ := strings.Cut(rest, " ")
		name := []rune(rest)[max(4, len(from))+1:]
		sp := 0
		for sp < len(name) && name[sp] == ' ' {
			sp++
		}
		shown := string(name[sp:])
		depth := (sp - 2) / 2
		dir := strings.HasPrefix(shown, "▾ ") || strings.HasPrefix(shown, "▸ ")
		if dir {
			depth = sp / 2
			shown = string([]rune(shown)[2:])
		}
		base, _, _ := strings.Cut(strings.TrimSuffix(strings.TrimSpace(shown), "/"), " → ")
		if depth < 0 || depth > len(stack) {
			t.Fatalf("tree line %q: depth %d under %q", l, depth, stack)
		}
		stack = stack[:depth]
		p := "/" + strings.Join(append(slices.Clone(stack), base), "/")
		if dir {
			stack = append(stack, base)
		}
		out = append(out, treeLine{path: p, marks: string(r[1:3]), dir: dir})
	}
	return out
}

// marksUnder is the marks of the marked lines at or below dir.
func marksUnder(rows []treeLine, dir string) map[string]string {
	out := map[string]string{}
	for _, r := range rows {
		if r.marks != "  " && (r.path == dir || strings.HasPrefix(r.path, dir+"/")) {
			out[r.path] = r.marks
		}
	}
	return out
}
