package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestScannerImports keeps the packages honest: scanners return data and
// never print, so they must not reach a formatter, the CLI framework or
// the Docker client (in the spirit of go-containerregistry's
// cmd/crane/depcheck_test.go).
func TestScannerImports(t *testing.T) {
	forbidden := []string{
		"github.com/dlayer/dlayer/report",
		"github.com/olekukonko/tablewriter",
		"github.com/urfave/cli",
		"github.com/docker/docker",
	}
	for _, pkg := range []string{"./inspect/...", "./overlay2/...", "./aufs/...", "./mountinfo/..."} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
	// report formats: it never talks to the daemon or the CLI framework.
	out, err := exec.Command("go", "list", "-deps", "./report/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/docker/docker") || strings.HasPrefix(dep, "github.com/urfave/cli") {
			t.Errorf("report depends on %s", dep)
		}
	}
}
