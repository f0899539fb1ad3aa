package main

import (
	"bytes"
	"testing"

	"github.com/dlayer/dlayer/fixtures/clitest"
	"github.com/dlayer/dlayer/inspect"
)

// Helpers of the in-process CLI tests; what they share with the
// end-to-end tests in e2e/ is in fixtures/clitest.

// verifyNeedsRoot is why a test of verify's verdict needs root
// (engine.NeedRoot): without CAP_SYS_ADMIN the kernel hides trusted.*
// xattrs, where a store may keep its overlay markers, so verify says what
// it could not see and exits 2, whatever the test broke.
const verifyNeedsRoot = "verify as non-root is incomplete (the kernel hides trusted.* xattrs) and exits 2"

// runCLI runs dlayer in-process.
func runCLI(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(append([]string{"dlayer"}, args...), &o, &e)
	schemas.Note(args, o.String())
	return o.String(), e.String(), code
}

func explainJSON(t *testing.T, root, daemon, name string) *inspect.Explanation {
	t.Helper()
	return clitest.ExplainJSON(t, runCLI, root, daemon, name)
}

// verifyJSON is the part of `dlayer verify --format json` the tests read.
type verifyJSON = clitest.VerifyJSON

func must(t *testing.T, err error) {
	t.Helper()
	clitest.Must(t, err)
}

// writeSized writes n bytes to path, making its parents.
func writeSized(t *testing.T, path string, n int) {
	t.Helper()
	clitest.WriteSized(t, path, n)
}
