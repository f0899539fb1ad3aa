package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
)

// needTool is engine.NeedTool.
func needTool(t *testing.T, name string) string { t.Helper(); return engine.NeedTool(t, name) }

// visibleNames are every command and flag dlayer --help shows.
func visibleNames(t *testing.T) (cmds, flags []string) {
	t.Helper()
	app := newApp(deps{backends: backends()}, nil, nil)
	app.Setup()
	for _, f := range app.VisibleFlags() {
		flags = append(flags, "--"+f.Names()[0])
	}
	for _, c := range app.VisibleCommands() {
		if c.Name == "help" {
			continue
		}
		cmds = append(cmds, c.Name)
		for _, f := range c.VisibleFlags() {
			flags = append(flags, "--"+f.Names()[0])
		}
	}
	if len(cmds) < 9 {
		t.Fatalf("only %d commands: %v", len(cmds), cmds)
	}
	return cmds, flags
}

// TestManPage: dlayer man is a page man renders without a warning, with
// every command (with its arguments), every flag and the exit codes.
func TestManPage(t *testing.T) {
	man := needTool(t, "man")
	out, errOut, code := runCLI("man")
	if code != 0 || errOut != "" || !strings.HasPrefix(out, ".TH DLAYER 1 ") {
		t.Fatalf("dlayer man: exit %d %s\n%.200s", code, errOut, out)
	}
	page := filepath.Join(t.TempDir(), "dlayer.1")
	must(t, os.WriteFile(page, []byte(out), 0o644))
	cmd := exec.Command(man, "--warnings", "-l", page)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C") // no glyph beyond ASCII
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil || e.Len() > 0 {
		t.Fatalf("man -l: %v\n%s", err, e.String())
	}
	text := o.String()
	cmds, flags := visibleNames(t)
	for _, c := range cmds {
		if !strings.Contains(text, "dlayer "+c) {
			t.Errorf("the page lacks the command %s", c)
		}
	}
	for _, f := range flags {
		if !strings.Contains(text, f) {
			t.Errorf("the page lacks the flag %s", f)
		}
	}
	for _, want := range []string{"dlayer explain [OPTIONS] CONTAINER", "dlayer whose [OPTIONS] PATH", "EXIT STATUS", "130, 143",
		"DLAYER_ROOT", "<root>/containerd/daemon", "completion", "bash|zsh|fish", "{{.name}} {{.state.status}}", "findings (listed on stdout)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for i, l := range strings.Split(text, "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("line %d is wider than MANWIDTH=80: %q", i+1, l)
		}
	}
}

// TestCompletionScripts: dlayer completion SHELL writes a script its
// shell parses (bash -n, zsh -n, fish -n) that names every command and
// flag; an unknown shell is a usage error.
func TestCompletionScripts(t *testing.T) {
	cmds, flags := visibleNames(t)
	for _, sh := range shells() {
		t.Run(string(sh), func(t *testing.T) {
			bin := needTool(t, string(sh))
			out, errOut, code := runCLI("completion", string(sh))
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			script := filepath.Join(t.TempDir(), "dlayer."+string(sh))
			must(t, os.WriteFile(script, []byte(out), 0o644))
			if msg, err := exec.Command(bin, "-n", script).CombinedOutput(); err != nil || len(msg) > 0 {
				t.Fatalf("%s -n: %v\n%s", sh, err, msg)
			}
			for _, c := range cmds {
				if !strings.Contains(out, c) {
					t.Errorf("no command %s", c)
				}
			}
			for _, f := range flags {
				long := strings.TrimPrefix(f, "--")
				if !strings.Contains(out, f) && !strings.Contains(out, "-l "+long) {
					t.Errorf("no flag %s", f)
				}
			}
			if got := offeredCommands(t, sh, bin, script); got != "" && got != strings.Join(visibleCommandWords(t), " ") {
				t.Errorf("dlayer <TAB> offers %q, want the visible commands (not man or completion)", got)
			}
		})
	}
	for _, args := range [][]string{{"completion", "tcsh"}, {"completion"}, {"completion", "bash", "zsh"}, {"man", "extra"}} {
		if out, errOut, code := runCLI(args...); code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 ||
			!strings.HasSuffix(errOut, "(see dlayer "+args[0]+" --help)\n") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}

// offeredCommands is what the script offers for `dlayer <TAB>`, sorted
// ("" for zsh, whose completion needs its line editor to run).
func offeredCommands(t *testing.T, sh shell, bin, script string) string {
	t.Helper()
	var cmd *exec.Cmd
	switch sh {
	case shellBash:
		cmd = exec.Command(bin, "-c", `source "$1"; COMP_WORDS=(dlayer ""); COMP_CWORD=1; _dlayer; printf '%s\n' "${COMPREPLY[@]}"`, "bash", script)
	case shellFish:
		cmd = exec.Command(bin, "-c", `source $argv[1]; complete -C 'dlayer ' | string replace -r '\t.*' ''`, script)
	default:
		return ""
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: completing dlayer <TAB>: %v", sh, err)
	}
	words := strings.Fields(string(out))
	slices.Sort(words)
	return strings.Join(words, " ")
}

// visibleCommandWords are the names and aliases of the visible commands
// and help, sorted.
func visibleCommandWords(t *testing.T) []string {
	app := newApp(deps{backends: backends()}, nil, nil)
	app.Setup()
	w := []string{"help"}
	for _, c := range app.VisibleCommands() {
		if c.Name != "help" {
			w = append(w, c.Names()...)
		}
	}
	slices.Sort(w)
	return w
}
