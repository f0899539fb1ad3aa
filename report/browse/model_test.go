package browse

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/dlayer/dlayer/containerd"
	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
	"github.com/dlayer/dlayer/inspect/backend"
)

// demo is the view of the demo store's container web (a copied-up and
// modified /app/config.yml, an opaque /app/data, a whiteout of /bin/ls, a
// setuid /app/bin/app, an 8 MB added blob).
func demo(t *testing.T) *Model {
	t.Helper()
	root := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{}).Root
	s, err := inspect.Open(root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.Stack("web")
	if err != nil {
		t.Fatal(err)
	}
	r, err := anatomy.Container(s, x, anatomy.Options{MaxPaths: -1, Tree: true})
	if err != nil {
		t.Fatal(err)
	}
	m := New(r, Options{Image: x.Container.ImageRef, Start: x.Container.State.StartedAt, StartWhat: "the container's start",
		Hash: func(dir, p string) (string, error) { d, _, err := s.HashFile(dir, p); return string(d), err }})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	return m
}

func press(m *Model, keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		var msg tea.KeyMsg
		switch k {
		case "up", "down", "pgup", "pgdown", "home", "end", "tab", "enter", "left", "right", "esc", "ctrl+c":
			msg = tea.KeyMsg{Type: map[string]tea.KeyType{"up": tea.KeyUp, "down": tea.KeyDown, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
				"home": tea.KeyHome, "end": tea.KeyEnd, "tab": tea.KeyTab, "enter": tea.KeyEnter, "left": tea.KeyLeft, "right": tea.KeyRight,
				"esc": tea.KeyEsc, "ctrl+c": tea.KeyCtrlC}[k]}
		default:
			msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		}
		_, cmd = m.Update(msg)
	}
	return cmd
}

func has(paths []string, p string) bool { return slices.Contains(paths, p) }

// screen checks the view fits the terminal: as many lines as rows, none
// wider, no control byte but the newlines and the styles' escapes.
func screen(t *testing.T, m *Model) string {
	t.Helper()
	v := m.View()
	lines := strings.Split(v, "\n")
	if len(lines) != m.height && m.width >= MinWidth && m.height >= MinHeight {
		t.Fatalf("%d lines on a %d-line screen", len(lines), m.height)
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > m.width {
			t.Fatalf("line of %d cells on a %d-wide screen: %q", w, m.width, l)
		}
		for _, r := range ansi.Strip(l) {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control byte %#x reaches the terminal: %q", r, l)
			}
		}
	}
	return ansi.Strip(v)
}

func TestFirstScreen(t *testing.T) {
	m := demo(t)
	v := screen(t, m)
	for _, want := range []string{"container web", "LAYERS", "> rw", "init", "L1", "TREE as of rw", "config.yml", "q quit", "? help"} {
		if !strings.Contains(v, want) {
			t.Errorf("first screen lacks %q:\n%s", want, v)
		}
	}
	if m.Layer() != 0 || m.Focus() != PaneLayers {
		t.Errorf("starts at layer %d, pane %d", m.Layer(), m.Focus())
	}
	p := m.Paths()
	if !has(p, "/app/config.yml") || !has(p, "-/bin/ls") || !has(p, "-/app/data/1") {
		t.Errorf("rw's own changes not listed (copied-up config, whiteout of /bin/ls, opaque dir's hidden entries): %v", p)
	}
}

func TestLayerKeys(t *testing.T) {
	m := demo(t)
	n := len(m.tree.Stack)
	press(m, "down")
	if m.Layer() != 1 || !strings.Contains(screen(t, m), "TREE as of init") {
		t.Fatalf("down: layer %d", m.Layer())
	}
	press(m, "end")
	if m.Layer() != n-1 || !strings.Contains(screen(t, m), "TREE as of L1") {
		t.Fatalf("end: layer %d of %d", m.Layer(), n)
	}
	// as of the base: nothing of the upper layers, /bin/ls still there
	if p := m.Paths(); has(p, "/app/config.yml") || !has(p, "/bin/ls") {
		t.Errorf("as of L1: %v", p)
	}
	press(m, "up")
	if m.Layer() != n-2 {
		t.Errorf("up: layer %d", m.Layer())
	}
	press(m, "home")
	if m.Layer() != 0 {
		t.Errorf("home: layer %d", m.Layer())
	}
	press(m, "pgdown")
	if m.Layer() != n-1 {
		t.Errorf("pgdown: layer %d", m.Layer())
	}
	press(m, "pgup", "up")
	if m.Layer() != 0 {
		t.Errorf("pgup: layer %d", m.Layer())
	}
	press(m, "enter")
	if m.Focus() != PaneTree {
		t.Error("enter on a layer does not go to its tree")
	}
	press(m, "tab")
	if m.Focus() != PaneLayers {
		t.Error("tab does not switch panes")
	}
}

func TestTreeKeys(t *testing.T) {
	m := demo(t)
	press(m, "tab")
	first := m.Selected()
	press(m, "down")
	if m.Selected() == first || m.cursor != 1 {
		t.Fatalf("down: %s", m.Selected())
	}
	press(m, "end")
	if m.cursor != len(m.rows)-1 {
		t.Errorf("end: %d of %d", m.cursor, len(m.rows))
	}
	press(m, "home")
	if m.cursor != 0 {
		t.Errorf("home: %d", m.cursor)
	}
	press(m, "pgdown")
	if m.cursor != min(m.treeRows(), len(m.rows)-1) {
		t.Errorf("pgdown: %d", m.cursor)
	}
	press(m, "pgup")
	if m.cursor != 0 {
		t.Errorf("pgup: %d", m.cursor)
	}
	// /app: open (it holds changes); left closes it, right opens it again
	for m.Selected() != "/app" {
		press(m, "down")
	}
	before := len(m.rows)
	press(m, "left")
	if len(m.rows) >= before || has(m.Paths(), "/app/config.yml") {
		t.Fatalf("left does not close /app: %d → %d lines", before, len(m.rows))
	}
	if !strings.Contains(screen(t, m), "* ▸ app/") && !strings.Contains(screen(t, m), "▸ app/") {
		t.Errorf("closed /app not shown closed:\n%s", screen(t, m))
	}
	press(m, "right")
	if len(m.rows) != before {
		t.Errorf("right does not open /app again: %d lines, want %d", len(m.rows), before)
	}
	press(m, "enter")
	if len(m.rows) >= before {
		t.Error("enter does not close /app")
	}
	press(m, "enter", "down", "down", "left")
	if m.Selected() != "/app/bin" {
		t.Errorf("left on an entry goes to %s, want its dir /app/bin", m.Selected())
	}
}

func TestEntryDetails(t *testing.T) {
	m := demo(t)
	press(m, "tab")
	goTo := func(p string) string {
		t.Helper()
		press(m, "home")
		for k := 0; m.Selected() != p; k++ {
			if k > len(m.rows) {
				t.Fatalf("no line %s in %v", p, m.Paths())
			}
			press(m, "down")
		}
		return screen(t, m)
	}
	v := goTo("/app/config.yml")
	if !strings.Contains(v, "from rw: modified over L") {
		t.Errorf("copied-up config.yml: no origin layer:\n%s", v)
	}
	v = goTo("/bin/ls")
	if !strings.Contains(v, "deleted: this layer's whiteout") || !strings.Contains(v, "the version of L1") {
		t.Errorf("whiteout of /bin/ls:\n%s", v)
	}
	v = goTo("/app/data/1")
	if !strings.Contains(v, "hidden: this layer's opaque dir /app/data") {
		t.Errorf("entry hidden by the opaque dir:\n%s", v)
	}
	v = goTo("/app/bin/app")
	if !strings.Contains(v, "sha256: press #") {
		t.Fatalf("no hash offer:\n%s", v)
	}
	cmd := press(m, "#")
	if cmd == nil {
		t.Fatal("# asks for no hash")
	}
	m.Update(cmd())
	if v := screen(t, m); !strings.Contains(v, "\n sha256:") || strings.Contains(v, "sha256 sha256") {
		t.Errorf("hash not shown:\n%s", v)
	}
}

func TestFilters(t *testing.T) {
	m := demo(t)
	for _, tc := range []struct {
		key       string
		f         Filter
		want, not []string
	}{
		{"a", FilterAdded, []string{"/app/cache/blob.img"}, []string{"/app/config.yml", "-/bin/ls"}},
		{"c", FilterChanged, []string{"/app/config.yml"}, []string{"/app/cache/blob.img"}},
		{"d", FilterDeleted, []string{"-/bin/ls", "-/app/data/1"}, []string{"/app/config.yml"}},
		{"s", FilterSetuid, []string{"/app/bin/app"}, []string{"/app/config.yml"}},
	} {
		press(m, tc.key)
		if m.Filter() != tc.f {
			t.Fatalf("%s: filter %v", tc.key, m.Filter())
		}
		p := m.Paths()
		for _, w := range tc.want {
			if !has(p, w) {
				t.Errorf("filter %v lacks %s: %v", tc.f, w, p)
			}
		}
		for _, w := range tc.not {
			if has(p, w) {
				t.Errorf("filter %v keeps %s: %v", tc.f, w, p)
			}
		}
		if !strings.Contains(screen(t, m), "· "+tc.f.String()) {
			t.Errorf("title does not name filter %v", tc.f)
		}
		press(m, tc.key)
		if m.Filter() != FilterNone {
			t.Errorf("%s twice leaves filter %v", tc.key, m.Filter())
		}
	}
	// wasted as of L3: files a layer above rewrites or deletes
	press(m, "end", "up", "up", "w")
	if p := m.Paths(); !has(p, "/app/bin/app") || has(p, "/app/readme") {
		t.Errorf("wasted as of %s: %v", m.label(m.Layer()), p)
	}
	press(m, "n")
	if m.Filter() != FilterNewer {
		t.Errorf("n: filter %v", m.Filter())
	}
	press(m, "esc")
	if m.Filter() != FilterNone {
		t.Errorf("esc leaves filter %v", m.Filter())
	}
}

func TestSearch(t *testing.T) {
	m := demo(t)
	press(m, "/", "c", "o", "n", "f")
	if !m.searching || m.Query() != "conf" {
		t.Fatalf("search %q (typing: %v)", m.Query(), m.searching)
	}
	if p := m.Paths(); !has(p, "/app/config.yml") || has(p, "/app/cache/blob.img") {
		t.Errorf("search conf: %v", p)
	}
	// q is typed, not quit, while searching
	if cmd := press(m, "q"); m.Query() != "confq" || (cmd != nil && cmd() == tea.Quit()) {
		t.Errorf("q while searching: %q", m.Query())
	}
	press(m, "enter")
	if m.searching || m.Query() != "confq" {
		t.Errorf("enter: %q (typing %v)", m.Query(), m.searching)
	}
	press(m, "/", "esc")
	if m.Query() != "" {
		t.Errorf("esc keeps %q", m.Query())
	}
}

func TestHelpResizeQuit(t *testing.T) {
	m := demo(t)
	press(m, "?")
	if v := screen(t, m); !strings.Contains(v, "help (any key returns)") || !strings.Contains(v, "Marks:") {
		t.Errorf("? shows no help:\n%s", v)
	}
	press(m, "x")
	if m.showHelp {
		t.Error("a key does not leave the help")
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}, {79, 24}, {80, 23}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		v := screen(t, m)
		small := size[0] < MinWidth || size[1] < MinHeight
		if strings.Contains(v, "needs at least") != small {
			t.Errorf("%dx%d:\n%s", size[0], size[1], v)
		}
	}
	for _, k := range []string{"q", "ctrl+c"} {
		if cmd := press(m, k); cmd == nil || cmd() != tea.Quit() {
			t.Errorf("%s does not quit", k)
		}
	}
}

// TestHostileName: a name with control bytes reaches the screen escaped.
func TestHostileName(t *testing.T) {
	if got := modeString(nil); got != "?---------" {
		t.Errorf("modeString(nil) = %q", got)
	}
	if got := modeString(&anatomy.Entry{Type: "file", Mode: "4755"}); got != "-rwsr-xr-x" {
		t.Errorf("4755 = %q", got)
	}
	m := demo(t)
	n := m.tree.Root.Children[0]
	n.Name = "evil\x1b]0;pwned\x07\r\n"
	v := screen(t, m)
	if !strings.Contains(v, `evil\x1b]0;pwned\a\r\n`) {
		t.Errorf("hostile name not escaped:\n%s", v)
	}
}

// A COPY's source hash is cut to 12 hex so its destination stays in view;
// what wrapping leaves out is marked.
func TestLayerWords(t *testing.T) {
	h := strings.Repeat("e8b62ed2b90e", 5) + "abcd"
	for in, want := range map[string]string{
		"COPY file:" + h + " in /data/f.txt":               "COPY file:e8b62ed2b90e… in /data/f.txt",
		"ADD dir:" + h + " in / ":                          "ADD dir:e8b62ed2b90e… in / ",
		"COPY multi:" + h + " in /x":                       "COPY multi:e8b62ed2b90e… in /x",
		"RUN echo file:abc > /profile:dir:":                "RUN echo file:abc > /profile:dir:",
		"COPY file:" + h + "ff in /a file:" + h + " in /b": "COPY file:e8b62ed2b90e… in /a file:e8b62ed2b90e… in /b",
	} {
		if got := shortSources(in); got != want {
			t.Errorf("shortSources(%q) = %q, want %q", in, got, want)
		}
	}
	got := wrapTo("RUN mkdir -p /data/sub && echo hello > /data/a && echo b > /data/sub/b", 20, 2)
	if len(got) != 2 || got[0] != "RUN mkdir -p" || !strings.HasSuffix(got[1], "…") || ansi.StringWidth(got[1]) > 20 {
		t.Errorf("wrapTo: %q, want two lines of at most 20 cells, the last ending in …", got)
	}
	if got := wrapTo("RUN true", 20, 2); !slices.Equal(got, []string{"RUN true"}) {
		t.Errorf("wrapTo of a short line: %q", got)
	}
}

// On the containerd store a classic RUN layer sits on its build
// container's init snapshot, which the container mounts and no image
// holds: it shows as binit, and the image layers keep docker history's
// numbers (L1 the base, L2 the RUN).
func TestBuildInitLayer(t *testing.T) {
	c, err := fixtures.BuildContainerd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := inspect.OpenWith(c.Root, inspect.Options{Backends: backend.NewRegistry(containerd.New(containerd.Config{Root: c.ContainerdRoot}))})
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.Stack(c.ContainerID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := anatomy.Container(s, x, anatomy.Options{MaxPaths: -1, Tree: true})
	if err != nil {
		t.Fatal(err)
	}
	m := New(r, Options{})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	var labels []string
	for i := range m.tree.Stack {
		labels = append(labels, m.label(i))
	}
	if want := []string{"rw", "init", "L2", "binit", "L1"}; !slices.Equal(labels, want) {
		t.Fatalf("labels %q, want %q", labels, want)
	}
	press(m, "down", "down", "down")
	v := screen(t, m)
	for _, want := range []string{"TREE as of binit", "binit: a build step's init snapshot", "a build step's init files (in no image)"} {
		if !strings.Contains(v, want) {
			t.Errorf("binit selected: no %q in\n%s", want, v)
		}
	}
}
