package e2e

import (
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
)

// TestMakeDemo: make demo keeps its store under the /tmp dir it prints,
// echoes every command exactly as it runs it (the real path, the flags
// it passes), so that running an echoed line again gives the same
// output, and ends with the next commands: make install and
// dlayer --root <store> explain web, which works on the kept store.
func TestMakeDemo(t *testing.T) {
	agoRE := regexp.MustCompile(`(Less than a second|About an? \w+|\d+ \w+) ago`)
	mk := needTool(t, "make")
	demo := exec.Command(mk, "-C", "..", "--no-print-directory", "demo")
	demo.Env = withoutMake(os.Environ())
	out, err := demo.CombinedOutput()
	text := string(out)
	m := regexp.MustCompile(`The demo store is kept in (/tmp/dlayer-demo\.[A-Za-z0-9]+) `).FindStringSubmatch(text)
	if m != nil {
		t.Cleanup(func() { os.RemoveAll(m[1]) })
	}
	if err != nil || m == nil {
		t.Fatalf("make demo: %v\n%s", err, text)
	}
	dir := m[1]
	root := filepath.Join(dir, "root")
	if fi, err := os.Stat(filepath.Join(root, "containers")); err != nil || !fi.IsDir() {
		t.Fatalf("the demo store %s is gone after the demo: %v", root, err)
	}
	if strings.Contains(text, "$d") {
		t.Errorf("an unexpanded $d:\n%s", text)
	}
	// sections: an echoed command line, then its output
	var cmds []string
	outputs := map[string]string{}
	for _, sec := range strings.Split("\n"+text, "\n$ ")[1:] {
		line, body, _ := strings.Cut(sec, "\n")
		cmds = append(cmds, line)
		outputs[line] = body
	}
	if len(cmds) < 8 {
		t.Fatalf("only %d commands echoed:\n%s", len(cmds), text)
	}
	for _, c := range cmds {
		if !strings.HasPrefix(c, "bin/dlayer --root "+dir+"/") {
			t.Errorf("echoed %q: not the binary and the store it ran", c)
		}
		if strings.HasSuffix(c, " verify") || strings.HasSuffix(c, " du") {
			continue // they say how long they took, and du sees verify's reads
		}
		cmd := exec.Command("sh", "-c", c)
		cmd.Dir = ".."
		again, err := cmd.Output()
		body := outputs[c]
		// ps says how long ago each container was created: the demo's
		// containers were just made (fixtures.Options.WallClock), so that
		// changes between the runs
		if err != nil || !strings.HasPrefix(agoRE.ReplaceAllString(body, "… ago"), agoRE.ReplaceAllString(string(again), "… ago")) {
			t.Errorf("%s again: %v: output differs from the demo's\n%s\n---\n%s", c, err, again, body)
		}
	}
	for _, want := range []string{"\n  make install ", "\n  dlayer --root " + root + " explain web\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's next steps lack %q", strings.TrimSpace(want))
		}
	}
	if out, errOut, code := runCLI("--root", root, "explain", "web"); code != 0 || !strings.Contains(out, "web") {
		t.Errorf("dlayer --root %s explain web: exit %d %s", root, code, errOut)
	}
}

// TestMakeScreenshot: make screenshot renders the demo store's report in
// headless Chromium (tools/screenshot fails on a console error or a
// request) and writes the picture the README shows: a PNG as wide as the
// window, of the header, a tower and the treemap stacked.
func TestMakeScreenshot(t *testing.T) {
	engine.NeedRoot(t, "make screenshot builds the overlay2 demo store, whose whiteout devices need root")
	engine.NeedTool(t, "chromium")
	mk := needTool(t, "make")
	shot := filepath.Join(t.TempDir(), "report.png")
	cmd := exec.Command(mk, "-C", "..", "--no-print-directory", "screenshot", "SHOT="+shot)
	cmd.Env = withoutMake(os.Environ())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1100 || b.Dy() < 1000 {
		t.Errorf("the picture is %dx%d, want 1100 wide and the three parts tall", b.Dx(), b.Dy())
	}
}
