package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Event is one line of `go test -json` (cmd/test2json).
type Event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output and build-fail events
}

// SkipReason is why a test skipped, as the summary groups them.
type SkipReason int

const (
	// SkipEngine: the test needs a real Docker engine, which DLAYER_E2E
	// turned off or (under auto) could not be started here.
	SkipEngine SkipReason = iota
	// SkipRoot: the test needs root (engine.NeedRoot and its like).
	SkipRoot
	// SkipOther: any other reason; the summary names the tests.
	SkipOther
)

// String names the reason as the summary says it.
func (r SkipReason) String() string {
	switch r {
	case SkipEngine:
		return "need a Docker engine"
	case SkipRoot:
		return "need root"
	}
	return "skipped for another reason"
}

// Skip is one skipped test and the message it skipped with.
type Skip struct {
	Package, Test, Message string
	Reason                 SkipReason
}

// classify sorts a skip message: the engine's own messages
// (engine.SkipMessage, "DLAYER_E2E=auto: docker engine unavailable: …")
// and the root ones (engine.RootSkipPrefix, "needs root (…)", "… (needs
// root)").
func classify(msg string) SkipReason {
	switch {
	case strings.HasPrefix(msg, "real-engine test skipped"), strings.Contains(msg, "docker engine unavailable"):
		return SkipEngine
	case strings.Contains(msg, "needs root"):
		return SkipRoot
	}
	return SkipOther
}

// Tally counts the tests of one or more go test runs.
type Tally struct {
	Passed, FailedTests int
	Skips               []Skip
	// FailedPackages are packages that failed (a test, the build, or the
	// binary's exit).
	FailedPackages []string
	output         map[string][]string // test key → its output lines, until it ends
	pkgOut         map[string][]string // package → its own output lines
}

// Failed reports whether anything failed.
func (t *Tally) Failed() bool { return t.FailedTests > 0 || len(t.FailedPackages) > 0 }

// testLine is a file:line: prefix of t.Log and t.Skip output.
var testLine = regexp.MustCompile(`^\s*[\w./-]+\.go:\d+: `)

// Read consumes go test -json events from r, writing to w what go test
// would print (all the output when verbose), and counts the tests. A line
// that is not an event is copied to w as it is.
func (t *Tally) Read(r io.Reader, w io.Writer, verbose bool) error {
	if t.output == nil {
		t.output, t.pkgOut = map[string][]string{}, map[string][]string{}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e Event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		t.event(e, w, verbose)
	}
	return sc.Err()
}

func (t *Tally) event(e Event, w io.Writer, verbose bool) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "build-output":
		io.WriteString(w, e.Output)
		return
	case "build-fail":
		t.failPackage(e.ImportPath)
		return
	case "output":
		if verbose {
			io.WriteString(w, e.Output)
		}
		if e.Test == "" {
			t.pkgOut[e.Package] = append(t.pkgOut[e.Package], e.Output)
		} else {
			t.output[key] = append(t.output[key], e.Output)
		}
		return
	}
	if e.Test == "" { // the package's end
		switch e.Action {
		case "pass", "skip":
			if !verbose {
				for _, l := range t.pkgOut[e.Package] {
					if strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "?") {
						io.WriteString(w, l)
					}
				}
			}
		case "fail":
			t.failPackage(e.Package)
			if !verbose {
				for _, l := range t.pkgOut[e.Package] {
					if l != "PASS\n" {
						io.WriteString(w, l)
					}
				}
			}
		}
		delete(t.pkgOut, e.Package)
		return
	}
	out := t.output[key]
	switch e.Action {
	case "pass":
		t.Passed++
	case "fail":
		t.FailedTests++
		if !verbose {
			for _, l := range out {
				if !isProgress(l) {
					io.WriteString(w, l)
				}
			}
		}
	case "skip":
		msg := skipMessage(out)
		t.Skips = append(t.Skips, Skip{Package: e.Package, Test: e.Test, Message: msg, Reason: classify(msg)})
	default:
		return // run, pause, cont, bench…
	}
	delete(t.output, key)
}

func (t *Tally) failPackage(p string) {
	if p != "" && !slices.Contains(t.FailedPackages, p) {
		t.FailedPackages = append(t.FailedPackages, p)
	}
}

// isProgress reports whether l is one of the lines go test -v adds to
// say a test runs, pauses or continues (not printed without -v).
func isProgress(l string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// skipMessage is the first line a skipped test printed that is neither
// progress nor its --- SKIP line, without the file:line: prefix.
func skipMessage(out []string) string {
	for _, l := range out {
		s := strings.TrimSpace(l)
		if s == "" || isProgress(l) || strings.HasPrefix(s, "--- SKIP") {
			continue
		}
		return testLine.ReplaceAllString(strings.TrimRight(l, "\n"), "")
	}
	return "(no message)"
}

// Summary is the one line that ends a run: how many tests passed, failed
// and skipped, and the skips by reason, each with its most frequent
// message (the engine's says how to run them); the tests skipped for
// another reason are named.
func (t *Tally) Summary() string {
	total := t.Passed + t.FailedTests + len(t.Skips)
	var b strings.Builder
	fmt.Fprintf(&b, "tests: %d run, %d passed, %d failed, %d skipped", total, t.Passed, t.FailedTests, len(t.Skips))
	if len(t.FailedPackages) > 0 {
		fmt.Fprintf(&b, " (failed packages: %s)", strings.Join(t.FailedPackages, ", "))
	}
	if len(t.Skips) == 0 {
		return b.String()
	}
	var parts []string
	for _, r := range []SkipReason{SkipEngine, SkipRoot, SkipOther} {
		var msgs []string
		var names []string
		for _, s := range t.Skips {
			if s.Reason == r {
				msgs = append(msgs, s.Message)
				names = append(names, s.Test)
			}
		}
		if len(msgs) == 0 {
			continue
		}
		switch r {
		case SkipRoot:
			parts = append(parts, fmt.Sprintf("%d %s (this run is not root; e.g. %s)", len(msgs), r, mostFrequent(msgs)))
		case SkipOther:
			const shown = 3
			list := names
			if len(list) > shown {
				list = append(slices.Clone(list[:shown]), fmt.Sprintf("%d more", len(names)-shown))
			}
			parts = append(parts, fmt.Sprintf("%d %s (%s: %s)", len(msgs), r, strings.Join(list, ", "), mostFrequent(msgs)))
		default:
			parts = append(parts, fmt.Sprintf("%d %s (%s)", len(msgs), r, mostFrequent(msgs)))
		}
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(parts, "; "))
	return b.String()
}

// mostFrequent is the message most tests gave (the first of the most
// frequent), with how many other messages there were.
func mostFrequent(msgs []string) string {
	count := map[string]int{}
	best := ""
	for _, m := range msgs {
		count[m]++
		if count[m] > count[best] || best == "" {
			best = m
		}
	}
	switch others := len(count) - 1; others {
	case 0:
	case 1:
		return best + "; and 1 other message"
	default:
		return fmt.Sprintf("%s; and %d other messages", best, others)
	}
	return best
}
