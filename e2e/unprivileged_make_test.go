package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
)

// TestUnprivilegedMakeTest runs, as uid 65534, what make test runs, for
// a representative subset: a real-engine test (TestStartFailureShowsLog
// starts dockerd), tests that need root, and ordinary ones, their events
// read by tools/testsum as make test does. With DLAYER_E2E=auto the run
// passes, and its last line counts the skips and says why (an engine,
// root); with DLAYER_E2E=1 the same run fails, since the skipped tests are
// required there. The test binaries are compiled here, as root (compiling
// is the same for any user, and cached), and run as uid 65534 in the
// source tree, which it can read but not write.
func TestUnprivilegedMakeTest(t *testing.T) {
	engine.NeedRoot(t, fmt.Sprintf("drops to uid %d", nobody))
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go on PATH: %v", err)
	}
	dir, err := os.MkdirTemp("", "dlayer-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	home := filepath.Join(dir, "home")
	pkgs := []struct{ name, dir string }{
		{"github.com/dlayer/dlayer/fixtures/engine", "../fixtures/engine"},
		{"github.com/dlayer/dlayer", ".."},
	}
	for i, p := range pkgs {
		if out, err := exec.Command(goBin, "test", "-c", "-o", filepath.Join(dir, fmt.Sprintf("%d.test", i)), p.name).CombinedOutput(); err != nil {
			t.Fatalf("go test -c %s: %v\n%s", p.name, err, out)
		}
	}
	if out, err := exec.Command(goBin, "build", "-o", filepath.Join(dir, "testsum"), "github.com/dlayer/dlayer/tools/testsum").CombinedOutput(); err != nil {
		t.Fatalf("go build testsum: %v\n%s", err, out)
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	chownTree(t, dir, nobody)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	runAsNobody := func(e2e string) (string, int) {
		t.Helper()
		var events bytes.Buffer
		for i, p := range pkgs {
			cmd := exec.Command(goBin, "tool", "test2json", "-t", "-p", p.name, filepath.Join(dir, fmt.Sprintf("%d.test", i)),
				"-test.v=test2json", "-test.count=1", "-test.run", "^(TestStartFailureShowsLog|TestVerifyCLI|TestFlagsAnywhere|TestUnknownCommand|TestVersion)$")
			cmd.Dir, cmd.Stdout, cmd.Stderr = p.dir, &events, &events
			cmd.Env = []string{"PATH=" + filepath.Dir(goBin) + ":/usr/bin:/bin", "HOME=" + home, "GOCACHE=" + filepath.Join(home, "cache"),
				"GOTOOLCHAIN=local", "DLAYER_E2E=" + e2e}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
			var ee *exec.ExitError
			if err := cmd.Run(); err != nil && !errors.As(err, &ee) {
				t.Fatalf("running %s as uid %d: %v", p.name, nobody, err)
			}
		}
		var out bytes.Buffer
		sum := exec.Command(filepath.Join(dir, "testsum"))
		sum.Stdin, sum.Stdout, sum.Stderr = &events, &out, &out
		err := sum.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return out.String(), 0
		case errors.As(err, &ee):
			return out.String(), ee.ExitCode()
		}
		t.Fatalf("testsum: %v", err)
		return "", -1
	}

	out, code := runAsNobody("auto")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	last := lines[len(lines)-1]
	if code != 0 {
		t.Fatalf("as uid %d with DLAYER_E2E=auto: exit %d\n%s", nobody, code, out)
	}
	sum := regexp.MustCompile(`^tests: (\d+) run, (\d+) passed, 0 failed, 2 skipped: ` +
		`1 need a Docker engine \(DLAYER_E2E=auto: docker engine unavailable: need root \(euid 65534\)\); ` +
		`1 need root \(this run is not root; e\.g\. needs root: verify as non-root is incomplete`)
	if !sum.MatchString(last) {
		t.Errorf("the run does not end with the skip summary:\n%s", out)
	}
	t.Logf("as uid %d, DLAYER_E2E=auto: %s", nobody, last)
	if strings.Contains(out, "=== RUN") || strings.Contains(out, "--- SKIP") {
		t.Errorf("not go test's own (non-verbose) output:\n%s", out)
	}

	out, code = runAsNobody("1")
	lines = strings.Split(strings.TrimRight(out, "\n"), "\n")
	last = lines[len(lines)-1]
	if code == 0 || !strings.Contains(last, " 2 failed, 0 skipped") ||
		!strings.Contains(out, "needs root: verify as non-root is incomplete") || !strings.Contains(out, "need root (euid 65534)") {
		t.Errorf("as uid %d with DLAYER_E2E=1: exit %d; the skipped tests must fail there\n%s", nobody, code, out)
	}
}

// chownTree gives dir and everything below it to uid (and gid) uid.
func chownTree(t *testing.T, dir string, uid int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	})
	if err != nil {
		t.Fatal(err)
	}
}
