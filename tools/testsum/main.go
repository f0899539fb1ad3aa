// Command testsum runs `go test -json` (or reads its events on stdin),
// prints what plain `go test` would print (everything with -v), and ends
// with one line saying how many tests ran, failed and were skipped, and
// why they were skipped: needing a Docker engine, needing root, or another
// reason (named). make test runs every go test through it.
//
//	testsum [-events FILE] -- go test -json [flags] [packages]
//	go test -json ... | testsum [-v] [-events FILE]
//	testsum -summary FILE...
//
// With a command, testsum exits with the command's exit code (1 if the
// command succeeded but a test or package failed). -events appends the
// raw events to FILE, so that -summary can count several runs at once.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testsum", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print every test's output (as go test -v)")
	events := fs.String("events", "", "also append the raw events to `FILE`")
	summary := fs.Bool("summary", false, "print only the summary line of the event files named as arguments")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *summary {
		var t Tally
		for _, name := range fs.Args() {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(stderr, "testsum: %v\n", err)
				return 2
			}
			err = t.Read(f, io.Discard, false)
			f.Close()
			if err != nil {
				fmt.Fprintf(stderr, "testsum: %s: %v\n", name, err)
				return 2
			}
		}
		fmt.Fprintln(stdout, t.Summary())
		if t.Failed() {
			return 1
		}
		return 0
	}
	in := stdin
	var cmd *exec.Cmd
	if cmdArgs := fs.Args(); len(cmdArgs) > 0 {
		cmd = exec.Command(cmdArgs[0], cmdArgs[1:]...)
		cmd.Stderr = stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			fmt.Fprintf(stderr, "testsum: %v\n", err)
			return 2
		}
		if err := cmd.Start(); err != nil {
			fmt.Fprintf(stderr, "testsum: %v\n", err)
			return 2
		}
		in = out
		*verbose = *verbose || hasVerbose(cmdArgs)
	}
	if *events != "" {
		f, err := os.OpenFile(*events, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "testsum: %v\n", err)
			return 2
		}
		defer f.Close()
		in = io.TeeReader(in, f)
	}
	var t Tally
	readErr := t.Read(in, stdout, *verbose)
	code := 0
	if cmd != nil {
		var ee *exec.ExitError
		if err := cmd.Wait(); errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			fmt.Fprintf(stderr, "testsum: %v\n", err)
			code = 2
		}
	}
	if readErr != nil {
		fmt.Fprintf(stderr, "testsum: %v\n", readErr)
		code = max(code, 2)
	}
	if *events == "" {
		fmt.Fprintln(stdout, t.Summary())
	}
	if code == 0 && t.Failed() {
		code = 1
	}
	return code
}

// hasVerbose reports whether a go test command line asks for -v.
func hasVerbose(args []string) bool {
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "v", "v=true", "test.v", "test.v=true":
			return strings.HasPrefix(a, "-")
		}
	}
	return false
}
