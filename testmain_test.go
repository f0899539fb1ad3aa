package main

import (
	"os"
	"testing"

	"github.com/dlayer/dlayer/fixtures/clitest"
)

// schemas checks every JSON document the tests' runs write against
// docs/schema; TestMain fails the package on a violation.
var schemas = clitest.NewSchemaLog("docs/schema")

// TestMain runs the tests at the default text width whatever the shell
// exports (COLUMNS sets the width explain wraps to), and fails when a
// JSON document a test's run wrote broke its schema.
func TestMain(m *testing.M) {
	os.Unsetenv("COLUMNS")
	code := m.Run()
	if n := schemas.Report(os.Stderr); n > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}
