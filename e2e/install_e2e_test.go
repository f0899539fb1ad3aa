package e2e

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
)

// needTool is engine.NeedTool.
func needTool(t *testing.T, name string) string { t.Helper(); return engine.NeedTool(t, name) }

// withoutMake is env without what an enclosing make (make test) passes
// down, so that a make the test runs sees only its own command line.
func withoutMake(env []string) []string {
	var out []string
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k != "MAKEFLAGS" && k != "MFLAGS" && k != "MAKELEVEL" && k != "MAKEOVERRIDES" {
			out = append(out, e)
		}
	}
	return out
}

// TestMakeInstall: make install DESTDIR=… PREFIX=/usr lays out a static
// binary, its man page and the three completions where each is looked
// for; the installed page renders without warnings, and the installed
// completions, with the installed binary on PATH, complete a fixture
// store's containers and images by name.
func TestMakeInstall(t *testing.T) {
	mk := needTool(t, "make")
	dest, out := t.TempDir(), t.TempDir()
	cmd := exec.Command(mk, "-C", "..", "--no-print-directory", "install", "DESTDIR="+dest, "PREFIX=/usr", "OUT="+out)
	cmd.Env = withoutMake(os.Environ())
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, msg)
	}
	want := map[string]os.FileMode{
		"usr/bin/dlayer":                                  0o755,
		"usr/share/man/man1/dlayer.1":                     0o644,
		"usr/share/bash-completion/completions/dlayer":    0o644,
		"usr/share/zsh/site-functions/_dlayer":            0o644,
		"usr/share/fish/vendor_completions.d/dlayer.fish": 0o644,
	}
	var got []string
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dest, p)
			got = append(got, rel)
		}
		return err
	})
	var names []string
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Fatalf("installed %v, want %v", got, names)
	}
	for n, mode := range want {
		if fi, err := os.Stat(filepath.Join(dest, n)); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, want mode %v", n, err, mode)
		}
	}
	bin := filepath.Join(dest, "usr/bin/dlayer")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter: not static (CGO_ENABLED=0)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	f.Close()
	if v, err := exec.Command(bin, "--version").Output(); err != nil || !strings.HasPrefix(string(v), "dlayer version ") {
		t.Errorf("installed dlayer --version: %v %q", err, v)
	}

	t.Run("man", func(t *testing.T) {
		man := needTool(t, "man")
		cmd := exec.Command(man, "--warnings", "-l", filepath.Join(dest, "usr/share/man/man1/dlayer.1"))
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C")
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil || e.Len() > 0 || !strings.Contains(o.String(), "dlayer explain [OPTIONS] CONTAINER") {
			t.Errorf("man -l: %v\n%s\n%.300s", err, e.String(), o.String())
		}
	})

	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	env := append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
	complete := func(t *testing.T, shellBin string, args ...string) []string {
		t.Helper()
		cmd := exec.Command(shellBin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v", shellBin, args, err)
		}
		var words []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			w, _, _ := strings.Cut(l, "\t") // fish: word, tab, description
			if w != "" {
				words = append(words, w)
			}
		}
		slices.Sort(words)
		return words
	}
	containers := []string{"batch", "fresh", "web"}
	images := []string{"demo/app:2", "demo/base:1", "demo/base:latest"}
	t.Run("bash", func(t *testing.T) {
		bash := needTool(t, "bash")
		script := filepath.Join(dest, "usr/share/bash-completion/completions/dlayer")
		line := func(words ...string) []string {
			args := append([]string{"-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dlayer; printf '%s\n' "${COMPREPLY[@]}"`,
				"bash", script}, words...)
			return complete(t, bash, args...)
		}
		if got := line("dlayer", "--root", b.Root, "explain", ""); !slices.Equal(got, containers) {
			t.Errorf("explain <TAB>: %v, want %v", got, containers)
		}
		if got := line("dlayer", "layers", "--root="+b.Root, ""); !slices.Equal(got, images) {
			t.Errorf("layers <TAB>: %v, want %v", got, images)
		}
		if got := line("dlayer", "ps", "--format", ""); !slices.Equal(got, []string{"json", "table"}) {
			t.Errorf("--format <TAB>: %v", got)
		}
		if got := line("dlayer", "explain", "--s"); !slices.Equal(got, []string{"--since", "--sort"}) {
			t.Errorf("explain --s<TAB>: %v", got)
		}
	})
	t.Run("fish", func(t *testing.T) {
		fish := needTool(t, "fish")
		script := filepath.Join(dest, "usr/share/fish/vendor_completions.d/dlayer.fish")
		line := func(l string) []string {
			return complete(t, fish, "-c", "source $argv[1]; complete -C $argv[2]", script, l)
		}
		if got := line("dlayer --root " + b.Root + " diff "); !slices.Equal(got, containers) {
			t.Errorf("diff <TAB>: %v, want %v", got, containers)
		}
		if got := line("dlayer --root " + b.Root + " layers "); !slices.Equal(got, images) {
			t.Errorf("layers <TAB>: %v, want %v", got, images)
		}
		if got := line("dlayer du --by "); !slices.Equal(got, []string{"container", "image", "layer", "orphan"}) {
			t.Errorf("du --by <TAB>: %v", got)
		}
	})
}
