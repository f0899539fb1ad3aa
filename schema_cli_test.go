package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/clitest"
	"github.com/dlayer/dlayer/report"
)

// The JSON contract of every command: each document, on the demo stores,
// in every state that changes its shape (findings, gaps, mounts, leaked
// mounts, orphans, the aufs store), is what its schema in docs/schema
// says, field for field (report/schema_test.go keeps the schemas equal
// to the Go types, and refuses to drop a field without a version bump).
// Every kind is checked here, whatever else the other tests run.
func TestJSONSchemas(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	aufs := filepath.Join(t.TempDir(), "root")
	if err := fixtures.ExtractAUFSDemo(aufs); err != nil {
		t.Fatal(err)
	}
	base := b.Image("demo/base:1").Layers[0]
	web := b.Container("web")
	mi := demoMountinfo(t, b, true) // web mounted, batch leaked, one bad line
	tampered, _ := tamperedStore(t) // a setuid bit added in a layer
	untidy := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	orphan := "overlay2/" + strings.Repeat("0f", 32) // a layer dir nothing owns
	writeSized(t, filepath.Join(untidy.Root, orphan, "diff", "a"), 1234)
	// Not root, the builder cannot chown and work/work (mode 0) cannot be
	// read, so du and verify report findings there: other keys. And the
	// kernel hides trusted.* xattrs, so explain and verify on an overlay2
	// store list that gap (gaps[] has objects).
	state := filepath.Join(t.TempDir(), "verify.state") // the second run trusts what the first recorded
	kinds := map[report.Schema]bool{}
	for _, tc := range []struct {
		name string
		root string // --root
		args []string
		code int
		kind report.Schema
	}{
		{"ps", b.Root, []string{"ps"}, 0, report.SchemaPS},
		{"images", b.Root, []string{"images"}, 0, report.SchemaImages},
		{"layers", b.Root, []string{"layers", "demo/app:2"}, 0, report.SchemaLayers},
		{"layers-contents", b.Root, []string{"layers", "--contents", "demo/app:2"}, 0, report.SchemaAnatomy},
		{"layers-contents-container", b.Root, []string{"layers", "--layer", "6", "web"}, 0, report.SchemaAnatomy},
		{"layers-compare", b.Root, []string{"layers", "--compare", "demo/base:1", "demo/app:2"}, 0, report.SchemaCompare},
		{"export", b.Root, []string{"export", "web", "-o", filepath.Join(t.TempDir(), "web.tar")}, 0, report.SchemaExport},
		{"explain-web", b.Root, []string{"explain", "web"}, 0, report.SchemaExplain},
		{"explain-web-mounted", b.Root, []string{"--mountinfo", mi, "explain", "web"}, 0, report.SchemaExplain},
		{"explain-web-finding", b.Root, []string{"--mountinfo", b.Root + "/absent", "explain", "web"}, 0, report.SchemaExplain},
		{"explain-fresh", b.Root, []string{"explain", "fresh"}, 0, report.SchemaExplain},
		{"diff-web", b.Root, []string{"diff", "web"}, 0, report.SchemaDiff},
		{"du", b.Root, []string{"du"}, 0, report.SchemaDU},
		{"du-orphan", untidy.Root, []string{"du"}, 0, report.SchemaDU},
		{"verify", b.Root, []string{"verify"}, 0, report.SchemaVerify},
		{"verify-findings", tampered.Root, []string{"verify"}, 1, report.SchemaVerify},
		{"verify-quiet", tampered.Root, []string{"verify", "--quiet"}, 1, report.SchemaVerifyFindings},
		{"verify-state", b.Root, []string{"verify", "--state", state}, 0, report.SchemaVerify},
		{"verify-state-again", b.Root, []string{"verify", "--state", state}, 0, report.SchemaVerify},
		{"mounts", b.Root, []string{"--mountinfo", mi, "mounts"}, 1, report.SchemaMounts},
		{"whose-layer-file", b.Root, []string{"whose", "overlay2/" + base.CacheID + "/diff/etc/passwd"}, 0, report.SchemaWhose},
		{"whose-layer", b.Root, []string{"whose", base.CacheID}, 0, report.SchemaWhose},
		{"whose-container", b.Root, []string{"whose", web.ID}, 0, report.SchemaWhose},
		{"whose-rw-layer", b.Root, []string{"whose", web.MountID}, 0, report.SchemaWhose},
		{"whose-orphan", untidy.Root, []string{"whose", orphan}, 0, report.SchemaWhose},
		{"aufs-ps", aufs, []string{"ps"}, 0, report.SchemaPS},
		{"aufs-explain-web", aufs, []string{"explain", "web"}, 0, report.SchemaExplain},
		{"aufs-du", aufs, []string{"du"}, 0, report.SchemaDU},
		{"aufs-verify", aufs, []string{"verify"}, 0, report.SchemaVerify},
	} {
		kinds[tc.kind] = true
		t.Run(tc.name, func(t *testing.T) {
			// The later --mountinfo of a case wins over this default.
			args := append([]string{"--root", tc.root, "--format", "json", "--daemon", "off", "--mountinfo", "none"}, tc.args...)
			out, errOut, code := runCLI(args...)
			// Not root, the fixture builder cannot give the store its owners
			// and the kernel hides trusted.* xattrs: du and verify find
			// more (exit 1) or cannot check all (exit 2). The document
			// must still follow its schema.
			if code != tc.code && (os.Geteuid() == 0 || code > exitUsage || out == "") {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			kind, err := clitest.CheckDocument("docs/schema", []byte(out))
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if kind != string(tc.kind) {
				t.Errorf("schema %q, want %q", kind, tc.kind)
			}
			var head report.Header
			if err := json.Unmarshal([]byte(out), &head); err != nil {
				t.Fatal(err)
			}
			p := head.Provenance
			if head.SchemaVersion != tc.kind.Version() || p.Tool != "dlayer" || p.Root != tc.root || p.EUID != os.Geteuid() ||
				!slices.Equal(p.Command, append([]string{"dlayer"}, args...)) || time.Since(p.Started) > time.Hour || p.Started.Location() != time.UTC {
				t.Errorf("header %+v: want version %d, tool dlayer, root %s, euid %d, the command line, started now in UTC", head, tc.kind.Version(), tc.root, os.Geteuid())
			}
		})
	}
	for _, k := range report.Schemas() {
		if !kinds[k] {
			t.Errorf("no case writes a %s document", k)
		}
	}
}
