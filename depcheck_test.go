package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/backend"
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
	// report formats and exporter serves: neither talks to the daemon or
	// the CLI framework (main wires them).
	for _, pkg := range []string{"./report/...", "./exporter/..."} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/docker/docker") || strings.HasPrefix(dep, "github.com/urfave/cli") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}

// backendPackages are the import paths of the backends main registers.
func backendPackages(t *testing.T) map[string]backend.Name {
	t.Helper()
	out := map[string]backend.Name{}
	r := backends()
	for _, n := range r.Names() {
		b, _ := r.Lookup(n)
		// the package of the Driver it binds: a backend may be built by a
		// shared constructor (layerdb.Backend)
		out[reflect.TypeOf(b.Open(t.TempDir(), nil)).PkgPath()] = n
	}
	if len(out) == 0 {
		t.Fatal("no backends registered")
	}
	return out
}

// TestCoreImportsNoBackend: the core defines the interface, the backends
// implement it, main wires them: nothing under inspect/ (nor report/,
// nor mountinfo/) depends on a backend package.
func TestCoreImportsNoBackend(t *testing.T) {
	bps := backendPackages(t)
	for _, pkg := range []string{"./inspect/...", "./report/...", "./mountinfo/..."} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if _, ok := bps[dep]; ok {
				t.Errorf("%s depends on backend package %s", pkg, dep)
			}
		}
	}
}

// TestNoDriverNameLiterals: no code outside the backend packages names a
// backend: no string literal equal to a registered backend's name (or a
// path starting with it) except the registry in main.go. fixtures/ builds
// stores of given drivers and mountinfo/ parses the kernel's file system
// types; they are not the core.
func TestNoDriverNameLiterals(t *testing.T) {
	bps := backendPackages(t)
	names := map[string]bool{}
	dirs := map[string]bool{}
	for p, n := range bps {
		names[string(n)] = true
		dirs[strings.TrimPrefix(p, "github.com/dlayer/dlayer/")] = true
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if dirs[p] || p == "fixtures" || p == "mountinfo" || strings.HasPrefix(p, ".") && p != "." || p == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			first, _, _ := strings.Cut(v, "/")
			if names[v] || names[first] && strings.Contains(v, "/") {
				t.Errorf("%s: driver name literal %s outside the backend packages", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
