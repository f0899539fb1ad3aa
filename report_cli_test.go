package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
)

// TestReportCLI: dlayer report writes one HTML file outside the root,
// every container by default; a container that cannot be explained is
// named in it and on stderr, and the exit is 2; usage errors write
// nothing.
func TestReportCLI(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	base := []string{"--root", b.Root, "--mountinfo", "none", "--daemon", "off"}
	run := func(args ...string) (string, string, int) {
		return runCLI(append(append([]string{}, base...), args...)...)
	}

	out, errOut, code := run("report", "--html", page, "--verify", "quick", "--settle", "0")
	if code != 0 || out != "" {
		t.Fatalf("report: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web", "batch", "fresh"} {
		id := b.Container(name).ID
		if !strings.Contains(string(html), `data-id="`+id+`"`) {
			t.Errorf("the report has no section for %s (%s)", name, id)
		}
	}
	if fi, _ := os.Stat(page); fi.Mode().Perm() != 0o644 {
		t.Errorf("report mode %v, want 0644", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the report's dir, want the report alone (no temporary left)", len(ents))
	}

	one := filepath.Join(dir, "one.html")
	_, errOut, code = run("report", "--html", one, "--verify", "off", "web", "no-such-<container>")
	if code != exitUsage || !strings.Contains(errOut, "no-such-<container>") {
		t.Errorf("a bad CONTAINER: exit %d, stderr %q; want 2, naming it", code, errOut)
	}
	html, err = os.ReadFile(one)
	if err != nil {
		t.Fatalf("the report is not written when one CONTAINER is bad: %v", err)
	}
	if s := string(html); !strings.Contains(s, "no-such-&lt;container&gt;") || strings.Contains(s, `data-id="`+b.Container("batch").ID+`"`) ||
		!strings.Contains(s, `data-id="`+b.Container("web").ID+`"`) || !strings.Contains(s, "Not run (<code>--verify off</code>)") {
		t.Error("the report of web and a bad name: it does not hold web alone, name the bad one, and say verify did not run")
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report"}, "needs --html FILE"},
		{[]string{"report", "--html", filepath.Join(b.Root, "r.html")}, "--html"},
		{[]string{"report", "--html", page, "--verify", "deep"}, "--verify deep"},
		{[]string{"report", "--html", page, "--max-changes", "-1"}, "--max-changes -1"},
		{[]string{"--format", "json", "report", "--html", page}, "--format json does not apply"},
	} {
		_, errOut, code := run(tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(b.Root, "r.html")); err == nil {
		t.Error("a report was written under the root")
	}
}
