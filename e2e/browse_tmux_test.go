package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
)

// tmuxScreen drives a program in a private tmux server (its own socket:
// no user's session is touched) on a 100×30 window.
type tmuxScreen struct {
	t          *testing.T
	tmux, sock string
}

func newTmuxScreen(t *testing.T, command string) *tmuxScreen {
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

// wait is the screen once it shows every one of want (10 s at most).
func (s *tmuxScreen) wait(want ...string) string {
	s.t.Helper()
	var screen string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		screen = s.run("capture-pane", "-p", "-t", "b")
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		if ok {
			return screen
		}
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
