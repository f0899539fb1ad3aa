package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

// TestCLIConfinedToRoot: evidence can hold symlinks where the store has
// dirs, and FIFOs where it has files. The CLI's opener resolves every
// metadata path beneath --root with no symlink in any component, and
// opens only regular files: a planted container outside the root never
// shows, the link is named with its target, and a FIFO is never opened.
func TestCLIConfinedToRoot(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	web, batch := b.Container("web"), b.Container("batch")

	// containers/<web> becomes a symlink to a dir outside the root that
	// holds a planted config naming a container "planted".
	outside := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(r, "containers", web.ID, "config.v2.json"))
	must(t, err)
	planted := strings.Replace(string(cfg), `"Name":"/web"`, `"Name":"/planted"`, 1)
	if !strings.Contains(planted, "/planted") {
		t.Fatal("the planted config does not name the planted container")
	}
	must(t, os.WriteFile(filepath.Join(outside, "config.v2.json"), []byte(planted), 0o644))
	must(t, os.RemoveAll(filepath.Join(r, "containers", web.ID)))
	must(t, os.Symlink(outside, filepath.Join(r, "containers", web.ID)))

	// The machine's plain opener (O_NOFOLLOW on the last component only)
	// would show the planted container: the case is real.
	var o, e bytes.Buffer
	runWith(deps{backends: backends(), fs: layerfs.OS{}}, []string{"dlayer", "--root", r, "--mountinfo", "none", "--daemon", "off", "ps"}, &o, &e)
	if !strings.Contains(o.String(), "planted") {
		t.Fatalf("without confinement the planted container should show:\n%s", o.String())
	}

	// batch's config.v2.json becomes a FIFO: opening it for reading would
	// block forever (no writer), so the test's deadline catches an open.
	p := filepath.Join(r, "containers", batch.ID, "config.v2.json")
	must(t, os.Remove(p))
	must(t, syscall.Mkfifo(p, 0o644))

	done := make(chan struct{})
	var out, errOut string
	var code int
	go func() {
		out, errOut, code = runCLI("--root", r, "--mountinfo", "none", "--daemon", "off", "ps")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("ps hung: a FIFO was opened")
	}
	if code != 0 || strings.Contains(out, "planted") || strings.Contains(errOut, "planted") {
		t.Errorf("exit %d; the planted container shows:\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "a symlink where the store has a directory") || !strings.Contains(errOut, outside) {
		t.Errorf("the symlink is not named with its target:\n%s", errOut)
	}
	if !strings.Contains(errOut, "not a regular file") || !strings.Contains(errOut, batch.ID) {
		t.Errorf("the FIFO is not reported:\n%s", errOut)
	}
	if !strings.Contains(out, "fresh") {
		t.Errorf("the other containers are still listed:\n%s", out)
	}
}

// TestCLILayerWalkConfined: a layer dir replaced by a symlink to a tree
// outside the root is not walked: explain names the link and its target
// and shows nothing of the outside tree.
func TestCLILayerWalkConfined(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	web := b.Container("web")
	outside := filepath.Join(t.TempDir(), "layer")
	must(t, os.MkdirAll(filepath.Join(outside, "diff", "planted-dir"), 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "diff", "planted-file"), []byte("x"), 0o644))
	dir := filepath.Join(r, "overlay2", web.MountID)
	must(t, os.Rename(dir, dir+".moved"))
	must(t, os.Symlink(outside, dir))
	out, errOut, code := runCLI("--root", r, "--mountinfo", "none", "--daemon", "off", "explain", "web")
	if strings.Contains(out+errOut, "planted") {
		t.Errorf("the outside tree was walked: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out+errOut, "a symlink where the store has a directory") || !strings.Contains(out+errOut, outside) {
		t.Errorf("the symlink is not named with its target: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestCLIShortLinksConfined: overlay2/l replaced by a symlink to a dir
// outside the root whose links name a planted layer id. Every readlink of
// a short link resolves beneath the root with no symlink before it: the
// planted id never shows, and the symlink is named with its target.
func TestCLIShortLinksConfined(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	planted := strings.Repeat("ab", 32)
	outside := t.TempDir()
	l := filepath.Join(r, "overlay2", "l")
	ents, err := os.ReadDir(l)
	must(t, err)
	for _, e := range ents {
		must(t, os.Symlink("../"+planted+"/diff", filepath.Join(outside, e.Name())))
	}
	must(t, os.Rename(l, l+".moved"))
	must(t, os.Symlink(outside, l))

	args := []string{"dlayer", "--root", r, "--mountinfo", "none", "--daemon", "off", "--format", "json", "verify", "--quick"}
	var o, e bytes.Buffer
	runWith(deps{backends: backends(), fs: layerfs.OS{}}, args, &o, &e)
	if !strings.Contains(o.String()+e.String(), planted) {
		t.Fatalf("without confinement the planted links should show:\n%s\n%s", o.String(), e.String())
	}
	for _, cmd := range [][]string{{"verify", "--quick"}, {"explain", "web"}, {"layers", "demo/app:2"}, {"whose", "overlay2/l"}} {
		out, errOut, code := runCLI(append([]string{"--root", r, "--mountinfo", "none", "--daemon", "off", "--format", "json"}, cmd...)...)
		if strings.Contains(out+errOut, planted) {
			t.Errorf("%v: exit %d: the planted id shows:\n%s\n%s", cmd, code, out, errOut)
		}
		if cmd[0] == "verify" && (!strings.Contains(out+errOut, "a symlink where the store has a directory") || !strings.Contains(out+errOut, outside)) {
			t.Errorf("%v: the symlink is not named with its target: exit %d\n%s\n%s", cmd, code, out, errOut)
		}
	}
}
