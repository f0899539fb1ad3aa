package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
)

// TestSignalsStopAtOnce: SIGINT and SIGTERM stop any command within a
// second (a liveness bound, not a performance figure), with the exit code
// shells expect (130, 143) and a line saying what was interrupted. The
// store is large enough that the commands are still working when the
// signal comes (checked: a run to completion takes longer).
func TestSignalsStopAtOnce(t *testing.T) {
	// verify re-hashes the layer: 1.5 GiB of a sparse file's zeros take
	// seconds; du walks the store meanwhile in the second case. Under
	// -race a sixteenth is as slow to verify, and the fixture builder, which
	// holds the layer's tar in memory, would need tens of GiB for all of it.
	size := int64(3 << 29)
	if raceBuild {
		size = 3 << 25
	}
	st := fixtures.Store{Images: []fixtures.Image{{Tags: []string{"slow:1"}, Layers: []fixtures.Layer{{
		CreatedBy: fmt.Sprintf("/bin/sh -c dd of=/big bs=1 seek=%dM count=0", size>>20),
		Entries:   []fixtures.Entry{{Path: "/big", Data: "x", Sparse: size}},
	}}}}}
	root := fixtures.MustBuild(t, st, fixtures.Options{}).Root
	start := func(args ...string) (*exec.Cmd, *bytes.Buffer) {
		var e bytes.Buffer
		cmd := &exec.Cmd{Path: dlayerBin, Args: append([]string{"dlayer", "--root", root, "--mountinfo", "none", "--daemon", "off", "--format", "json"}, args...), Stderr: &e}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &e
	}
	// how long an uninterrupted verify takes here
	t0 := time.Now()
	// (as non-root verify cannot see trusted.* xattrs: exit 2, incomplete)
	if cmd, e := start("verify"); cmd.Wait() != nil && cmd.ProcessState.ExitCode() > 1 && (os.Geteuid() == 0 || cmd.ProcessState.ExitCode() != 2) {
		t.Fatalf("verify: %s", e)
	}
	full := time.Since(t0)
	if full < 700*time.Millisecond {
		t.Fatalf("a full verify takes %v: too short to interrupt it for this test", full)
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{{syscall.SIGTERM, 143, "SIGTERM"}, {syscall.SIGINT, 130, "SIGINT"}} {
		for _, cmdline := range [][]string{{"verify"}} {
			cmd, e := start(cmdline...)
			// once it reads the store (a race-built binary can take
			// seconds to get to main on a busy host)
			waitReading(t, cmd.Process.Pid, root)
			after := min(full/4, 300*time.Millisecond)
			time.Sleep(after)
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(time.Second):
				cmd.Process.Kill()
				t.Fatalf("%v: still running 1 s after %s", cmdline, tc.name)
			}
			took := time.Since(sent)
			if got := cmd.ProcessState.ExitCode(); got != tc.code {
				t.Errorf("%v after %s: exit %d, want %d\n%s", cmdline, tc.name, got, tc.code, e)
			}
			if cmd.ProcessState.ExitCode() == tc.code && !strings.Contains(e.String(), "interrupted by "+tc.name) {
				t.Errorf("%v: stderr does not say it was interrupted: %s", cmdline, e)
			}
			t.Logf("%v: %s after %v (a full verify takes %v): stopped in %v", cmdline, tc.name, after, full.Round(time.Millisecond), took.Round(time.Millisecond))
		}
	}
}

// waitReading waits until process pid has a file below root open: it is
// past its start-up (its signal handlers are set) and at work.
func waitReading(t *testing.T, pid int, root string) {
	t.Helper()
	fds := fmt.Sprintf("/proc/%d/fd", pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ents, _ := os.ReadDir(fds)
		for _, e := range ents {
			if l, err := os.Readlink(filepath.Join(fds, e.Name())); err == nil && strings.HasPrefix(l, root+"/") {
				return
			}
		}
	}
	t.Fatalf("process %d opened nothing below %s in 10 s", pid, root)
}
