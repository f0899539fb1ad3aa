package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/whose"
)

// TestWhoseSuggestedCommandsAreQuoted: names in a suggested command come
// from the evidence. Pasted into a shell, the command runs exactly one
// program on exactly that name (checked by running it under sh with a
// docker that only records its arguments); a name that cannot be pasted
// gets no command, and no raw control byte reaches the terminal.
func TestWhoseSuggestedCommandsAreQuoted(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	web := b.Container("web") // running, so the advice is docker exec … rm
	upper := filepath.Join(b.Root, "overlay2", web.MountID, "diff")
	bin, record := t.TempDir(), filepath.Join(t.TempDir(), "args")
	must(t, os.WriteFile(filepath.Join(bin, "docker"), []byte("#!/bin/sh\nprintf '%s\\0' \"$@\" > \""+record+"\"\n"), 0o755))
	for _, name := range []string{"x; rm -rf ~ #", "$(touch pwned)", "it's `id` & \"q\"", "-rf", "sp ace\ttab"} {
		writeSized(t, filepath.Join(upper, name), 1)
		out, errOut, code := runCLI("--root", b.Root, "--mountinfo", "none", "--format", "json", "whose", "overlay2/"+web.MountID+"/diff/"+name)
		var a whose.Answer
		if code != 0 || json.Unmarshal([]byte(out), &a) != nil {
			t.Fatalf("%q: exit %d %s", name, code, errOut)
		}
		if !pasteable(name) {
			if a.Verdict.Instead != "" || !strings.Contains(a.Verdict.Reason, "no command is suggested") {
				t.Errorf("%q: an unpasteable name got a command: %+v", name, a.Verdict)
			}
			continue
		}
		os.Remove(record)
		sh := exec.Command("sh", "-c", a.Verdict.Instead)
		sh.Dir, sh.Env = t.TempDir(), []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
		if out, err := sh.CombinedOutput(); err != nil {
			t.Fatalf("%q: sh -c %q: %v %s", name, a.Verdict.Instead, err, out)
		}
		got, err := os.ReadFile(record)
		want := strings.Join([]string{"exec", "web", "rm", "/" + name}, "\x00") + "\x00"
		if err != nil || string(got) != want {
			t.Errorf("%q: pasting %q ran docker %q, want %q", name, a.Verdict.Instead, got, want)
		}
		if ents, _ := os.ReadDir(sh.Dir); len(ents) != 0 {
			t.Errorf("%q: pasting %q ran something else too (%v)", name, a.Verdict.Instead, ents)
		}
	}
	// control bytes: no command, and the text output escapes them
	name := "esc\x1b[31mred\x07"
	writeSized(t, filepath.Join(upper, name), 1)
	out, _, code := runCLI("--root", b.Root, "--mountinfo", "none", "whose", "overlay2/"+web.MountID+"/diff/"+name)
	if code != 0 || strings.ContainsAny(out, "\x1b\x07") || strings.Contains(out, "instead:") || !strings.Contains(out, "no command is suggested") {
		t.Errorf("control bytes: exit %d\n%s", code, out)
	}
}

// pasteable mirrors the rule under test: valid UTF-8, no control bytes.
func pasteable(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return false
		}
	}
	return !strings.ContainsRune(s, '\t')
}
