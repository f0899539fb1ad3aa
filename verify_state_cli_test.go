package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/verify"
)

// verifyJSONState runs verify --format json with args and returns its
// state object, its findings' kinds and paths, and the exit code.
func verifyJSONState(t *testing.T, root string, args ...string) (st verify.TrustReport, found []string, code int) {
	t.Helper()
	out, errOut, code := runCLI(append([]string{"--root", root, "--format", "json", "verify", "--settle", "0"}, args...)...)
	var doc struct {
		State    *verify.TrustReport `json:"state"`
		Findings []verify.Finding    `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("exit %d: %v\nstdout: %s\nstderr: %s", code, err, out, errOut)
	}
	for _, f := range doc.Findings {
		found = append(found, f.Kind.String()+" "+f.Path)
	}
	if doc.State != nil {
		st = *doc.State
	} else if slices.Contains(args, "--state") {
		t.Fatalf("no state object with --state: %s", out)
	}
	return st, found, code
}

// flat is text with its line wrapping undone.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// changeFileByte changes one byte of p and puts its mtime back: only its
// ctime, which the kernel sets, tells.
func changeFileByte(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Lstat(p)
	must(t, err)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte("R"), 0) // "root:x…" becomes "Root:x…"
	must(t, errors.Join(err, f.Close(), os.Chtimes(p, fi.ModTime(), fi.ModTime())))
}

// TestVerifyStateCLI: the first run records every layer (mode 0600, no
// record yet); the next, on the unchanged store, trusts all three and
// says so and why, in text and JSON; one byte changed in the base
// layer's file is then caught with the findings a run without --state
// gives (exit 1), the two other layers still trusted.
func TestVerifyStateCLI(t *testing.T) {
	engine.NeedRoot(t, verifyNeedsRoot)
	b := fixtures.MustBuild(t, ownedStore(), fixtures.Options{})
	file := filepath.Join(t.TempDir(), "verify.state")
	out, errOut, code := runCLI("--root", b.Root, "verify", "--settle", "0", "--state", file)
	out = flat(out)
	if code != 0 || !strings.Contains(out, "no record yet, so every layer was re-hashed") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errOut)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v, want mode 0600", fi, err)
	}
	out, errOut, code = runCLI("--root", b.Root, "verify", "--settle", "0", "--state", file)
	out = flat(out)
	for _, w := range []string{"0 rebuilt", "3 trusted on ctime", "3 layers trusted on ctime, not re-hashed", "resting on full re-hashes since",
		"ctime is set only by the kernel", "raw block device"} {
		if !strings.Contains(out, w) {
			t.Errorf("unchanged store: no %q in\n%s", w, out)
		}
	}
	if code != 0 || errOut != "" {
		t.Errorf("unchanged store: exit %d, stderr %s", code, errOut)
	}
	st, _, code := verifyJSONState(t, b.Root, "--state", file)
	if code != 0 || st.LayersTrusted != 3 || st.LayersRehashed != 0 || st.File != file || st.RecordedAt == nil || st.Oldest == nil ||
		!strings.Contains(st.Statement, "only by the kernel") {
		t.Errorf("unchanged store, JSON: exit %d, %+v", code, st)
	}

	changeFileByte(t, filepath.Join(b.Root, "overlay2", b.Image("cli/base:1").Layers[0].CacheID, "diff", "etc/passwd"))
	_, want, wantCode := verifyJSONState(t, b.Root)
	st, got, code := verifyJSONState(t, b.Root, "--state", file)
	if code != 1 || wantCode != 1 || !slices.Equal(got, want) || !slices.Contains(got, "content_mismatch /etc/passwd") {
		t.Errorf("one byte changed: exit %d %q; without --state: exit %d %q", code, got, wantCode, want)
	}
	if st.LayersTrusted != 2 || st.LayersRehashed != 1 {
		t.Errorf("one byte changed: %+v: the changed layer re-hashed, the others trusted", st)
	}
	// the layer with findings was not recorded: re-hashed and caught again
	if st, got, code = verifyJSONState(t, b.Root, "--state", file); code != 1 || st.LayersRehashed != 1 || !slices.Equal(got, want) {
		t.Errorf("next run: exit %d %q %+v", code, got, st)
	}
}

// TestVerifyStateMaxAge: --max-age 0 re-hashes every layer, whatever the
// state records; a long age trusts them.
func TestVerifyStateMaxAge(t *testing.T) {
	engine.NeedRoot(t, verifyNeedsRoot)
	b := fixtures.MustBuild(t, ownedStore(), fixtures.Options{})
	file := filepath.Join(t.TempDir(), "verify.state")
	verifyJSONState(t, b.Root, "--state", file)
	if st, _, code := verifyJSONState(t, b.Root, "--state", file, "--max-age", "0"); code != 0 || st.LayersTrusted != 0 || st.LayersRehashed != 3 || st.MaxAge != "0s" {
		t.Errorf("--max-age 0: exit %d %+v", code, st)
	}
	if st, _, code := verifyJSONState(t, b.Root, "--state", file, "--max-age", "168h"); code != 0 || st.LayersTrusted != 3 {
		t.Errorf("--max-age 168h: exit %d %+v", code, st)
	}
}

// TestVerifyStateUnusable: a corrupt file, another tool's JSON, a state
// of another root and a symlink are each said on stderr with the file's
// name and what is wrong; the run re-hashes every layer, exits as it
// would without --state, and rewrites the file, which the next run uses.
func TestVerifyStateUnusable(t *testing.T) {
	engine.NeedRoot(t, verifyNeedsRoot)
	b := fixtures.MustBuild(t, ownedStore(), fixtures.Options{})
	other := fixtures.MustBuild(t, ownedStore(), fixtures.Options{})
	dir := t.TempDir()
	otherState := filepath.Join(dir, "other.state")
	verifyJSONState(t, other.Root, "--state", otherState)
	for name, c := range map[string]struct {
		make func(p string) error
		err  string
	}{
		"corrupt": {func(p string) error { return os.WriteFile(p, []byte("{\"format\":\x00garbage"), 0o600) }, "not a usable verify state file: invalid character"},
		"foreign": {func(p string) error { return os.WriteFile(p, []byte(`{"Repositories":{}}`), 0o600) }, `format "", not "dlayer-verify-state"`},
		"version": {func(p string) error {
			return os.WriteFile(p, []byte(`{"format":"dlayer-verify-state","version":9}`), 0o600)
		}, "version 9"},
		"other root": {func(p string) error { return os.Link(otherState, p) }, "recorded for the data root " + other.Root},
		"symlink":    {func(p string) error { return os.Symlink(otherState, p) }, "too many levels of symbolic links"},
		"directory":  {func(p string) error { return os.Mkdir(p, 0o700) }, ""},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			must(t, c.make(p))
			out, errOut, code := runCLI("--root", b.Root, "verify", "--settle", "0", "--state", p)
			out = flat(out)
			if name == "directory" {
				if code != 2 || !strings.Contains(errOut, "is a directory") {
					t.Errorf("a directory: exit %d, stderr %s", code, errOut)
				}
				return
			}
			if code != 0 || !strings.Contains(errOut, "--state "+p+": ") || !strings.Contains(errOut, c.err) ||
				!strings.Contains(errOut, "every layer is re-hashed and the file rewritten") || !strings.Contains(out, "3 rebuilt") ||
				!strings.Contains(out, "not usable") {
				t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if st, _, _ := verifyJSONState(t, b.Root, "--state", p); st.LayersTrusted != 3 || st.Problem != "" {
				t.Errorf("the rewritten file is not used: %+v", st)
			}
		})
	}
	if st, _, _ := verifyJSONState(t, other.Root, "--state", otherState); st.LayersTrusted != 3 {
		t.Errorf("the other root's state was changed through a link: %+v", st)
	}
}

// TestVerifyStateUsage: a state file under the root (by name, "..", a
// symlinked dir, or a symlink into it) is refused with one line naming
// it, and nothing is written there; --state with --quick and --max-age
// without --state are usage errors.
func TestVerifyStateUsage(t *testing.T) {
	b := fixtures.MustBuild(t, ownedStore(), fixtures.Options{})
	dir := t.TempDir()
	must(t, os.Symlink(b.Root, filepath.Join(dir, "root-link")))
	must(t, os.Symlink(filepath.Join(b.Root, "image", "new"), filepath.Join(dir, "into-root")))
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--state", filepath.Join(b.Root, "image", "st")}, "--state " + filepath.Join(b.Root, "image", "st") + ": refusing to write under the data root"},
		{[]string{"--state", filepath.Join(b.Root, "image", "..", "st")}, "refusing to write under the data root"},
		{[]string{"--state", filepath.Join(b.Root, "st")}, "refusing to write under the data root"},
		{[]string{"--state", filepath.Join(dir, "root-link", "image", "st")}, "refusing to write under the data root"},
		{[]string{"--state", filepath.Join(dir, "into-root")}, "a symlink to " + filepath.Join(b.Root, "image", "new") + ", under the data root"},
		{[]string{"--state", filepath.Join(dir, "nodir", "st")}, "its directory"},
		{[]string{"--state", filepath.Join(dir, "st"), "--quick"}, "--quick re-hashes nothing"},
		{[]string{"--max-age", "1h"}, "it needs --state FILE"},
	} {
		out, errOut, code := runCLI(append([]string{"--root", b.Root, "verify"}, c.args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.err) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", c.args, code, out, errOut)
		}
	}
	for _, p := range []string{filepath.Join(b.Root, "image", "st"), filepath.Join(b.Root, "st"), filepath.Join(b.Root, "image", "new")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was written under the root", p)
		}
	}
}
