package main

import (
	"io"
	"os"
	"strconv"
	"time"

	"github.com/dlayer/dlayer/report"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress returns a callback that shows work under way on w, as one
// line made by format after a spinner (github.com/schollz/progressbar:
// it throttles redraws and clears the line), or nil when w is not a
// terminal (pipes, logs and JSON get nothing). done clears the line.
func progress[P any](w io.Writer, format func(P) string) (update func(P), done func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(w), progressbar.OptionSpinnerType(14),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(),
		progressbar.OptionSetElapsedTime(false), progressbar.OptionSetWidth(10))
	return func(p P) {
			bar.Describe(format(p))
			_ = bar.Add(1)
		}, func() {
			_ = bar.Clear()
			_ = bar.Finish()
		}
}

// termWidth is the width text for w is wrapped to: $COLUMNS when it is a
// number (as shells export it, and as a script may set it), else the
// terminal's width when w is one, else report.DefaultWidth.
func termWidth(w io.Writer) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 20 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols >= 20 {
			return cols
		}
	}
	return report.DefaultWidth
}
