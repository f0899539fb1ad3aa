package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dlayerBin is the dlayer binary under test, built once by TestMain
// (with -race when the tests are); plainBin is it built without -race, for
// the tests that measure memory.
var dlayerBin, plainBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	os.Unsetenv("COLUMNS") // the binary wraps text to it: tests read the default width
	dir, err := os.MkdirTemp("", "dlayer-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	dlayerBin = filepath.Join(dir, "dlayer")
	args := []string{"build", "-o", dlayerBin}
	if raceBuild {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, "github.com/dlayer/dlayer")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go %s: %v\n%s", strings.Join(args, " "), err, out)
		return 1
	}
	plainBin = dlayerBin
	if raceBuild {
		// the race detector multiplies memory use: what bounds memory is
		// measured on the binary as it ships
		plainBin = filepath.Join(dir, "dlayer-plain")
		if out, err := exec.Command("go", "build", "-o", plainBin, "github.com/dlayer/dlayer").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build: %v\n%s", err, out)
			return 1
		}
	}
	code := m.Run()
	if n := races.report(os.Stderr); n > 0 && code == 0 {
		code = 1
	}
	if n := schemas.Report(os.Stderr); n > 0 && code == 0 {
		code = 1
	}
	if benchSetup.e != nil {
		if err := benchSetup.e.Stop(); err != nil && code == 0 {
			code = 1
		}
	}
	if floorSetup.e != nil {
		if err := floorSetup.e.Stop(); err != nil && code == 0 {
			code = 1
		}
	}
	if benchSetup.dir != "" {
		os.RemoveAll(benchSetup.dir)
	}
	return code
}
