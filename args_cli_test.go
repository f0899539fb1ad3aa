package main

import (
	"os"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/clitest"
)

// TestFlagsAnywhere: a flag after an argument is read, never ignored, on
// every command: `dlayer ps extra --root /evidence` must not read the live
// /var/lib/docker. The same line with the flags before and after the
// arguments gives the same output.
func TestFlagsAnywhere(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	web := b.Container("web")
	g := []string{"--root", b.Root, "--mountinfo", "none", "--daemon", "off", "--format", "json"}
	for _, c := range [][]string{
		{"ps"}, {"images"}, {"layers", "demo/app:2"}, {"explain", "web"}, {"explain", "--quiet", "web"}, {"diff", "web"},
		{"du"}, {"verify", "--quick"}, {"whose", "overlay2/" + web.MountID},
	} {
		before, _, code := runCLI(append(append([]string{}, g...), c...)...)
		// as non-root, verify cannot see trusted.* xattrs: exit 2 (the
		// same exit is still required with the flags moved)
		if code > 1 && !(c[0] == "verify" && os.Geteuid() != 0 && code == exitUsage) {
			t.Fatalf("%v: exit %d", c, code)
		}
		// the global flags after the command and its arguments, the
		// command's own flags after its arguments
		var args, flags []string
		for _, a := range c[1:] {
			if strings.HasPrefix(a, "-") {
				flags = append(flags, a)
			} else {
				args = append(args, a)
			}
		}
		line := append(append(append([]string{c[0]}, args...), flags...), g...)
		after, errOut, code2 := runCLI(line...)
		if code2 != code || !sameOutput(c[0], before, after) {
			t.Errorf("%v: exit %d vs %d; output differs\n%s", line, code, code2, errOut)
		}
	}
	// a global flag after an extra argument: never the live host
	if out, errOut, code := runCLI("ps", "extra", "--root", "/nonexistent"); code != exitUsage || out != "" {
		t.Errorf("ps extra --root /nonexistent: exit %d, %s%s", code, out, errOut)
	}
	if out, errOut, code := runCLI("ps", "--root", "/nonexistent"); code != exitUsage || out != "" || !strings.Contains(errOut, "/nonexistent") {
		t.Errorf("ps --root /nonexistent: exit %d, %s%s", code, out, errOut)
	}
	if _, errOut, code := runCLI("--root", b.Root, "ps", "extra"); code != exitUsage || !strings.Contains(errOut, "no arguments") {
		t.Errorf("ps extra: exit %d, %s", code, errOut)
	}
	// after "--" everything is an argument
	if _, errOut, code := runCLI("--root", b.Root, "--mountinfo", "none", "whose", "--", "--root"); code != exitUsage || !strings.Contains(errOut, "--root") {
		t.Errorf("whose -- --root: exit %d, %s", code, errOut)
	}
}

// sameOutput compares two runs' JSON, ignoring what differs between any
// two runs (durations, start times).
func sameOutput(cmd, a, b string) bool {
	if cmd == "verify" || cmd == "du" {
		return len(a) > 0 && len(b) > 0 && strings.Count(a, "\n") == strings.Count(b, "\n")
	}
	return clitest.WithoutProvenance(a) == clitest.WithoutProvenance(b)
}

// TestUnknownCommand: one line on stderr naming it, exit 2.
func TestUnknownCommand(t *testing.T) {
	out, errOut, code := runCLI("frobnicate")
	if code != exitUsage || out != "" || errOut != "dlayer: unknown command \"frobnicate\" (see dlayer --help)\n" {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	if out, _, code := runCLI("help", "ps"); code != 0 || !strings.Contains(out, "ps") {
		t.Errorf("help ps: exit %d %s", code, out)
	}
}

// TestVersion: --version prints the module version and build details.
func TestVersion(t *testing.T) {
	out, _, code := runCLI("--version")
	if code != 0 || !strings.HasPrefix(out, "dlayer version ") || !strings.Contains(out, "go1.") {
		t.Errorf("exit %d: %q", code, out)
	}
}
