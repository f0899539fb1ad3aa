package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTallyCapturedRun reads a captured `go test -json` run (testdata/
// engine-off.json: DLAYER_E2E unset, so the engine test skipped) and
// prints what go test would, then the summary.
func TestTallyCapturedRun(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "engine-off.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tl Tally
	var out bytes.Buffer
	if err := tl.Read(f, &out, false); err != nil {
		t.Fatal(err)
	}
	if tl.Passed != 2 || tl.FailedTests != 0 || len(tl.Skips) != 1 || tl.Failed() {
		t.Fatalf("passed %d failed %d skips %+v", tl.Passed, tl.FailedTests, tl.Skips)
	}
	if s := tl.Skips[0]; s.Test != "TestStartFailureShowsLog" || s.Reason != SkipEngine || !strings.HasPrefix(s.Message, "real-engine test skipped: run as root") {
		t.Errorf("skip %+v", s)
	}
	if got := out.String(); strings.Contains(got, "=== RUN") || strings.Count("\n"+got, "\nok  \t") != 2 || strings.Count(got, "\n") != 2 {
		t.Errorf("not what go test prints without -v:\n%s", got)
	}
	want := "tests: 3 run, 2 passed, 0 failed, 1 skipped: 1 need a Docker engine (real-engine test skipped: run as root with DLAYER_E2E=1 (DLAYER_E2E=1 make test) to start a private dockerd)"
	if got := tl.Summary(); got != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
}

// events is a run with every kind of skip, a failure and a passing
// package, in test2json's form.
const events = `{"Action":"start","Package":"p/a"}
{"Action":"run","Package":"p/a","Test":"TestEngine"}
{"Action":"output","Package":"p/a","Test":"TestEngine","Output":"=== RUN   TestEngine\n"}
{"Action":"output","Package":"p/a","Test":"TestEngine","Output":"    testing.go:63: DLAYER_E2E=auto: docker engine unavailable: need root (euid 1001)\n"}
{"Action":"output","Package":"p/a","Test":"TestEngine","Output":"--- SKIP: TestEngine (0.00s)\n"}
{"Action":"skip","Package":"p/a","Test":"TestEngine","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestChown"}
{"Action":"output","Package":"p/a","Test":"TestChown","Output":"=== RUN   TestChown\n"}
{"Action":"output","Package":"p/a","Test":"TestChown","Output":"    x_test.go:12: needs root: chown\n"}
{"Action":"output","Package":"p/a","Test":"TestChown","Output":"--- SKIP: TestChown (0.00s)\n"}
{"Action":"skip","Package":"p/a","Test":"TestChown","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestMount/overlay"}
{"Action":"output","Package":"p/a","Test":"TestMount/overlay","Output":"    x_test.go:20: needs root (chown, security.capability)\n"}
{"Action":"skip","Package":"p/a","Test":"TestMount/overlay","Elapsed":0}
{"Action":"pass","Package":"p/a","Test":"TestMount","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestForm"}
{"Action":"output","Package":"p/a","Test":"TestForm","Output":"    f_test.go:5: form device: cannot set trusted.* xattrs in /tmp/x (needs root)\n"}
{"Action":"skip","Package":"p/a","Test":"TestForm","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestOne"}
{"Action":"output","Package":"p/a","Test":"TestOne","Output":"    y_test.go:3: one container only\n"}
{"Action":"skip","Package":"p/a","Test":"TestOne","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestBroken"}
{"Action":"output","Package":"p/a","Test":"TestBroken","Output":"=== RUN   TestBroken\n"}
{"Action":"output","Package":"p/a","Test":"TestBroken","Output":"    y_test.go:9: exit 2, want 0\n"}
{"Action":"output","Package":"p/a","Test":"TestBroken","Output":"--- FAIL: TestBroken (0.01s)\n"}
{"Action":"fail","Package":"p/a","Test":"TestBroken","Elapsed":0.01}
{"Action":"output","Package":"p/a","Output":"FAIL\n"}
{"Action":"output","Package":"p/a","Output":"FAIL\tp/a\t0.02s\n"}
{"Action":"fail","Package":"p/a","Elapsed":0.02}
{"ImportPath":"p/b [p/b.test]","Action":"build-output","Output":"b_test.go:1:1: expected 'package', found oops\n"}
{"ImportPath":"p/b [p/b.test]","Action":"build-fail"}
{"Action":"start","Package":"p/c"}
{"Action":"output","Package":"p/c","Output":"ok  \tp/c\t0.01s\n"}
{"Action":"pass","Package":"p/c","Elapsed":0.01}
`

// TestTallyReasons: each skip is counted under its reason, a failing
// test's output is printed (without the progress lines), a build failure
// fails the run, and the summary names the tests skipped for another
// reason.
func TestTallyReasons(t *testing.T) {
	var tl Tally
	var out bytes.Buffer
	if err := tl.Read(strings.NewReader(events), &out, false); err != nil {
		t.Fatal(err)
	}
	want := "    y_test.go:9: exit 2, want 0\n--- FAIL: TestBroken (0.01s)\nFAIL\nFAIL\tp/a\t0.02s\n" +
		"b_test.go:1:1: expected 'package', found oops\nok  \tp/c\t0.01s\n"
	if out.String() != want {
		t.Errorf("output\n%s\nwant\n%s", out.String(), want)
	}
	wantSum := "tests: 7 run, 1 passed, 1 failed, 5 skipped (failed packages: p/a, p/b [p/b.test]): " +
		"1 need a Docker engine (DLAYER_E2E=auto: docker engine unavailable: need root (euid 1001)); " +
		"3 need root (this run is not root; e.g. needs root: chown; and 2 other messages); " +
		"1 skipped for another reason (TestOne: one container only)"
	if got := tl.Summary(); got != wantSum {
		t.Errorf("summary\n got %s\nwant %s", got, wantSum)
	}
	if !tl.Failed() {
		t.Error("a failed test and a failed build are a failed run")
	}
	var verbose bytes.Buffer
	var tv Tally
	if err := tv.Read(strings.NewReader(events), &verbose, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(verbose.String(), "--- SKIP: TestChown (0.00s)\n") || !strings.Contains(verbose.String(), "=== RUN   TestEngine\n") {
		t.Errorf("-v drops lines:\n%s", verbose.String())
	}
}

// TestRunExitCode: testsum exits with its command's exit code, or 1 when
// the command exited 0 but a test failed; -events files are summed by
// -summary in one line.
func TestRunExitCode(t *testing.T) {
	dir := t.TempDir()
	evFile := filepath.Join(dir, "events.json")
	if err := os.WriteFile(evFile, []byte(events), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		script string
		code   int
	}{
		{"cat " + evFile + "; exit 3", 3},
		{"cat " + evFile, 1},
		{"echo '{\"Action\":\"pass\",\"Package\":\"p/c\",\"Test\":\"TestX\"}'", 0},
	} {
		var o, e bytes.Buffer
		if code := run([]string{"--", "sh", "-c", tc.script}, nil, &o, &e); code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", tc.script, code, tc.code, o.String(), e.String())
		}
		if lines := strings.Split(strings.TrimSpace(o.String()), "\n"); !strings.HasPrefix(lines[len(lines)-1], "tests: ") {
			t.Errorf("%s: does not end with the summary:\n%s", tc.script, o.String())
		}
	}
	log := filepath.Join(dir, "log.json")
	var o, e bytes.Buffer
	for range 2 {
		if code := run([]string{"-events", log, "--", "cat", evFile}, nil, &o, &e); code != 1 {
			t.Fatalf("exit %d: %s", code, e.String())
		}
	}
	if strings.Contains(o.String(), "tests: ") {
		t.Errorf("-events prints a summary per run:\n%s", o.String())
	}
	o.Reset()
	if code := run([]string{"-summary", log}, nil, &o, &e); code != 1 || !strings.HasPrefix(o.String(), "tests: 14 run, 2 passed, 2 failed, 10 skipped") || strings.Count(o.String(), "\n") != 1 {
		t.Errorf("-summary: exit %d: %q", code, o.String())
	}
}
