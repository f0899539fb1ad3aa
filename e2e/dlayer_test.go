package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"

	"github.com/dlayer/dlayer/fixtures/clitest"
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
	races.note(args, e.String())
	schemas.Note(args, o.String())
	return o.String(), e.String(), code
}

// raceLog keeps the data races the -race built binary reported (it says
// "WARNING: DATA RACE" on stderr and exits 66), for TestMain to fail on.
type raceLog struct {
	mu   sync.Mutex
	runs []string
}

var races raceLog

// schemas checks every JSON document the binary writes in these tests
// against docs/schema: TestMain fails on a violation.
var schemas = clitest.NewSchemaLog("../docs/schema")

func (l *raceLog) note(args []string, stderr string) {
	if !strings.Contains(stderr, "WARNING: DATA RACE") {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs = append(l.runs, "dlayer "+strings.Join(args, " ")+":\n"+stderr)
}

// report writes the races seen and returns how many runs had one.
func (l *raceLog) report(w io.Writer) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.runs {
		fmt.Fprintf(w, "e2e: a data race in %s\n", r)
	}
	return len(l.runs)
}
