package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
)

// exitUsage is dlayer's exit code for a usage error or an unreadable
// store (package main's exitUsage; see dlayer --help).
const exitUsage = 2

// runCLI runs the dlayer binary with args (as argv[0] "dlayer", in the
// test's environment and working directory) and returns what it wrote and
// its exit code. If the binary cannot be run at all, the code is -1 and
// stderr says why.
func runCLI(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	cmd := &exec.Cmd{Path: dlayerBin, Args: append([]string{"dlayer"}, args...), Stdout: &o, Stderr: &e}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		fmt.Fprintf(&e, "e2e: running %s: %v\n", dlayerBin, err)
		code = -1
	}
	return o.String(), e.String(), code
}
