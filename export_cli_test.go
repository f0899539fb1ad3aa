package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/clitest"
)

// TestExportCLI: export writes the tar (one entry per docker diff line,
// in its order, deletions as .wh. entries) and a manifest that follows
// its schema, both outside the root; usage errors write nothing.
func TestExportCLI(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	base := []string{"--root", b.Root, "--mountinfo", "none", "--daemon", "off"}
	run := func(args ...string) (string, string, int) {
		return runCLI(append(append([]string{}, base...), args...)...)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "web.tar")
	out, errOut, code := run("export", "web", "-o", file)
	if code != 0 || out != "" || !strings.Contains(errOut, "dlayer: export: 21 entries of web") {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	diff, _, _ := run("diff", "web")
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d, base := filepath.Split("/" + strings.TrimSuffix(h.Name, "/"))
		if w, ok := strings.CutPrefix(base, ".wh."); ok {
			lines = append(lines, "D "+d+w)
		} else {
			lines = append(lines, "/"+strings.TrimSuffix(h.Name, "/"))
		}
	}
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(diff), "\n") {
		if strings.HasPrefix(l, "D ") {
			want = append(want, l)
		} else {
			want = append(want, l[2:])
		}
	}
	if !slices.Equal(lines, want) {
		t.Errorf("the tar's entries\n%q\nare not docker diff's lines, in order\n%q", lines, want)
	}
	m, err := os.ReadFile(file + ".manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if why, err := clitest.CheckDocument("docs/schema", m); err != nil {
		t.Errorf("the manifest does not follow its schema: %v\n%s", err, why)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "web"}, "needs -o FILE"},
		{[]string{"export", "-o", filepath.Join(dir, "x.tar")}, "exactly one CONTAINER"},
		{[]string{"export", "web", "-o", filepath.Join(b.Root, "x.tar")}, "--output"},
		{[]string{"export", "web", "-o", filepath.Join(dir, "y.tar"), "--manifest", filepath.Join(b.Root, "m.json")}, "--manifest"},
		{[]string{"export", "web", "-o", filepath.Join(dir, "z.tar"), "--manifest", filepath.Join(dir, "z.tar")}, "is the tar itself"},
		{[]string{"export", "nope", "-o", filepath.Join(dir, "n.tar")}, `"nope"`},
	} {
		_, errOut, code := run(tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	for _, n := range []string{"x.tar", "y.tar", "z.tar", "n.tar"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s written by a failed export", n)
		}
	}
	if ents, _ := os.ReadDir(b.Root); slices.ContainsFunc(ents, func(e os.DirEntry) bool {
		return strings.HasSuffix(e.Name(), ".tar") || strings.HasSuffix(e.Name(), ".json")
	}) {
		t.Error("something written under the root")
	}
}
