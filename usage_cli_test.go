package main

import (
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
)

// TestUsageErrors: every usage error is one line on stderr that ends with
// where the help is, nothing on stdout (no help text dumped), exit 2 — for
// unknown flags, bad flag values, wrong arguments and formats, before or
// after the arguments.
func TestUsageErrors(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := []string{"--root", b.Root, "--mountinfo", "none", "--daemon", "off"}
	for _, tc := range []struct {
		args []string
		msg  string // the line, without "dlayer: " and the hint
		help string // whose help the hint names: "" for dlayer's own
	}{
		{[]string{"ps", "--bogus"}, "unknown flag --bogus", "ps"},
		{[]string{"ps", "-x"}, "unknown flag -x", "ps"},
		{[]string{"--bogus", "ps"}, "unknown flag --bogus", ""},
		{[]string{"ps", "extra"}, "ps takes no arguments: it lists every container", "ps"},
		{[]string{"images", "extra"}, "images takes no arguments (use --root for the data root)", "images"},
		{[]string{"layers"}, "layers wants exactly one IMAGE argument, got 0; dlayer images lists them", "layers"},
		{[]string{"explain", "web", "fresh"}, "explain wants exactly one CONTAINER argument, got 2; dlayer ps lists them", "explain"},
		{[]string{"diff"}, "diff wants exactly one CONTAINER argument, got 0; dlayer ps lists them", "diff"},
		{[]string{"whose"}, "whose wants exactly one PATH argument, got 0", "whose"},
		{[]string{"mounts", "extra", "--mountinfo", "/dev/null"}, "mounts takes no arguments: it lists every mount of the store", "mounts"},
		{[]string{"du", "--top", "x"}, `--top "x": not a number`, "du"},
		{[]string{"verify", "--jobs"}, "flag --jobs needs a value", "verify"},
		{[]string{"explain", "web", "--since", "yesterday"}, "", "explain"},
		{[]string{"explain", "web", "--sort", "size"}, "", "explain"},
		{[]string{"ps", "--format", "yaml"}, `--format "yaml": ps takes table, json or a Go template over the JSON fields`, ""},
		{[]string{"du", "--format", "{{.root}}"}, `--format "{{.root}}": du takes table or json`, ""},
		{[]string{"ps", "--format", "{{.name"}, "", ""},
		{[]string{"ps", "--daemon", "sometimes"}, `--daemon "sometimes": want auto or off`, ""},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, ""},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`, ""},
	} {
		out, errOut, code := runCLI(append(append([]string{}, r...), tc.args...)...)
		hint := " (see " + helpLine(tc.help) + ")\n"
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "dlayer: ") || !strings.HasSuffix(errOut, hint) {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q\nwant one line ending %q", tc.args, code, out, errOut, hint)
			continue
		}
		if tc.msg != "" && errOut != "dlayer: "+tc.msg+hint {
			t.Errorf("%v: %q, want %q", tc.args, errOut, "dlayer: "+tc.msg+hint)
		}
	}
	// a flag after the argument is read: explain web --quiet
	quiet, _, code := runCLI(append(append([]string{}, r...), "explain", "web", "--quiet")...)
	loud, _, code2 := runCLI(append(append([]string{}, r...), "explain", "web")...)
	if code != 0 || code2 != 0 || len(quiet) == 0 || len(quiet) >= len(loud) {
		t.Errorf("explain web --quiet: exit %d, %d bytes; without --quiet %d bytes", code, len(quiet), len(loud))
	}
}
