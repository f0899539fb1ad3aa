package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
)

// TestReadmeFirstBlock runs the README's first code block word for word,
// line by line, as a fresh unprivileged user (uid 65534, an empty home) on
// a fresh clone of the repository: make demo, then make install into the
// home. Then the installed dlayer explains the demo's container. The Go
// modules are the clone's own (go mod download, as root, into a cache the
// user gets, so that no network is needed); nothing else is prepared.
func TestReadmeFirstBlock(t *testing.T) {
	engine.NeedRoot(t, "drops to uid 65534 on a fresh clone")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go on PATH: %v", err)
	}
	block := readmeFirstBlock(t)
	dir, err := os.MkdirTemp("", "dlayer-readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	clone, home, mods := filepath.Join(dir, "clone"), filepath.Join(dir, "home"), filepath.Join(dir, "mod")
	if out, err := exec.Command("git", "clone", "-q", "..", clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	dl := exec.Command(goBin, "mod", "download")
	dl.Dir, dl.Env = clone, append(withoutMake(os.Environ()), "GOMODCACHE="+mods, "GOFLAGS=-modcacherw")
	if out, err := dl.CombinedOutput(); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	must(t, os.MkdirAll(home, 0o755))
	for _, p := range []string{dir, clone, home, mods} {
		if out, err := exec.Command("chown", "-R", "65534:65534", p).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v\n%s", err, out)
		}
	}
	env := []string{"HOME=" + home, "PATH=" + filepath.Dir(goBin) + ":/usr/local/bin:/usr/bin:/bin", "LANG=C",
		"GOMODCACHE=" + mods, "GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=-modcacherw", "TMPDIR=" + dir}
	var demoOut string
	for _, line := range block {
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir, cmd.Env = clone, env
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		if strings.HasPrefix(line, "make demo") {
			demoOut = string(out)
		}
	}
	m := regexp.MustCompile(`The demo store is kept in (\S+) `).FindStringSubmatch(demoOut)
	if m == nil {
		t.Fatalf("make demo did not say where its store is:\n%s", demoOut)
	}
	t.Cleanup(func() { os.RemoveAll(m[1]) })
	bin := filepath.Join(home, ".local", "bin", "dlayer")
	for _, f := range []string{bin, filepath.Join(home, ".local", "share", "man", "man1", "dlayer.1")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("make install: %v", err)
		}
	}
	cmd := exec.Command(bin, "--root", filepath.Join(m[1], "root"), "--mountinfo", "none", "--daemon", "off", "explain", "web")
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Container web") || !strings.Contains(string(out), "attention") {
		t.Errorf("the installed dlayer explain web: %v\n%s", err, out)
	}
}

// readmeFirstBlock is the README's first fenced code block, a command a line.
func readmeFirstBlock(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(raw), "```", 3)
	if len(parts) < 3 {
		t.Fatal("README.md has no code block")
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(strings.TrimPrefix(parts[1], "\n")), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		t.Fatal("README.md's first code block is empty")
	}
	return lines
}
