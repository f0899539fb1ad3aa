package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/report"
)

// nobody is the unprivileged identity the test drops to.
const nobody = 65534

// TestUnprivilegedSaysIncomplete: without CAP_SYS_ADMIN the kernel hides
// trusted.* xattrs (they read as absent, not as an error), so the children
// of an opaque dir drop out of `dlayer diff`. The run must say so on
// stderr and in the JSON (complete: false with the reason), and verify
// must exit 2 rather than pass what it could not see. The same store as
// root is complete and clean.
func TestUnprivilegedSaysIncomplete(t *testing.T) {
	engine.NeedRoot(t, fmt.Sprintf("drops to uid %d", nobody))
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	// execve looks the binary up before the capability takes effect
	if err := os.Chmod(filepath.Dir(dlayerBin), 0o755); err != nil {
		t.Fatal(err)
	}
	args := func(a ...string) []string {
		return append([]string{"--root", b.Root, "--mountinfo", "none", "--daemon", "off"}, a...)
	}

	rootDiff, errOut, code := runCLI(args("diff", "web")...)
	if code != 0 || errOut != "" {
		t.Fatalf("root: diff web: exit %d %s", code, errOut)
	}
	hidden := []string{"D /app/data/1", "D /app/data/2"}
	for _, l := range hidden {
		if !strings.Contains(rootDiff, l+"\n") {
			t.Fatalf("root: diff web lacks %q (the opaque dir's lower children):\n%s", l, rootDiff)
		}
	}
	if _, _, code := runCLI(args("verify")...); code != 0 {
		t.Fatalf("root: verify exit %d, want 0", code)
	}

	// As nobody: the kernel hides the opaque xattr.
	diff, errOut, code := runAs(t, nobody, args("diff", "web")...)
	if code != 0 {
		t.Fatalf("nobody: diff web: exit %d %s", code, errOut)
	}
	for _, l := range hidden {
		if strings.Contains(diff, l+"\n") {
			t.Fatalf("nobody saw %q: the kernel showed it trusted.* xattrs, so this test proves nothing", l)
		}
	}
	if !strings.Contains(errOut, "dlayer: incomplete:") || !strings.Contains(errOut, "CAP_SYS_ADMIN") {
		t.Errorf("nobody: diff web says nothing of what it could not see:\nstderr: %s", errOut)
	}
	out, errOut, code := runAs(t, nobody, args("--format", "json", "explain", "web")...)
	var x inspect.Explanation
	if code != 0 || json.Unmarshal([]byte(out), &x) != nil {
		t.Fatalf("nobody: explain --format json: exit %d %s", code, errOut)
	}
	// The document says who read the evidence, with what rights: the
	// reader's missing CAP_SYS_ADMIN is why the markers were not seen.
	var head report.Header
	if err := json.Unmarshal([]byte(out), &head); err != nil || head.Provenance.EUID != int(nobody) || head.Provenance.EGID != int(nobody) ||
		!slices.Equal(head.Provenance.Capabilities, []string{"cap_dac_read_search"}) || head.Provenance.CapEff != "0000000000000004" {
		t.Errorf("nobody: explain's provenance %+v (%v): want euid and egid %d, only cap_dac_read_search (0000000000000004)", head.Provenance, err, nobody)
	}
	if x.Complete || len(x.Gaps) != 1 || x.Gaps[0].Kind != inspect.GapTrustedXattrs || !strings.Contains(x.Gaps[0].Why, "CAP_SYS_ADMIN") {
		t.Errorf("nobody: explain JSON complete=%v gaps=%+v, want complete false with the reason", x.Complete, x.Gaps)
	}
	for _, quick := range [][]string{{"verify", "--quick"}, {"verify"}} {
		out, errOut, code := runAs(t, nobody, args(append([]string{"--format", "json"}, quick...)...)...)
		var r struct {
			Complete bool          `json:"complete"`
			Gaps     []inspect.Gap `json:"gaps"`
			Findings []struct {
				Kind string `json:"kind"`
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("nobody: %v: %v\n%s\n%s", quick, err, out, errOut)
		}
		if code != exitUsage || r.Complete || len(r.Gaps) == 0 || !strings.Contains(errOut, "not a pass") {
			t.Errorf("nobody: %v: exit %d complete=%v gaps=%d, want exit %d and complete false\nstderr: %s", quick, code, r.Complete, len(r.Gaps), exitUsage, errOut)
		}
		for _, f := range r.Findings {
			if f.Kind == "opaque_missing" || f.Kind == "whiteout_missing" {
				t.Errorf("nobody: %v: %s is what the hidden xattrs look like, not a finding", quick, f.Kind)
			}
		}
	}
}

// capDACReadSearch is CAP_DAC_READ_SEARCH (linux/capability.h): read
// any file and search any dir whatever its mode, as an analyst's account
// with read access to a copy would; it grants nothing else.
const capDACReadSearch = 2

// runAs is runCLI as uid (and gid) uid, without supplementary groups,
// whose only capability is CAP_DAC_READ_SEARCH: every file of the store
// can be read (without changing its mode, which is evidence), but
// CAP_SYS_ADMIN, which trusted.* xattrs need, is gone.
func runAs(t *testing.T, uid uint32, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := &exec.Cmd{Path: dlayerBin, Args: append([]string{"dlayer"}, args...), Stdout: &o, Stderr: &e, Dir: "/",
		Env: []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"},
		SysProcAttr: &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}},
			AmbientCaps: []uintptr{capDACReadSearch}}}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("running %s as uid %d: %v", dlayerBin, uid, err)
	}
	schemas.Note(args, o.String())
	return o.String(), e.String(), code
}
