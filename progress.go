package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/dlayer/dlayer/report"
	"golang.org/x/sys/unix"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progress returns a callback that redraws one status line on w, made by
// format, or nil when w is not a terminal (pipes and logs get nothing).
// done clears the line.
func progress[P any](w io.Writer, format func(P) string) (update func(P), done func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	return func(p P) { fmt.Fprintf(w, "\r%s\x1b[K", format(p)) },
		func() { fmt.Fprint(w, "\r\x1b[K") }
}

// termWidth is the width text for w is wrapped to: $COLUMNS when it is a
// number (as shells export it, and as a script may set it), else the
// terminal's width when w is one, else report.DefaultWidth.
func termWidth(w io.Writer) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 20 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col >= 20 {
			return int(ws.Col)
		}
	}
	return report.DefaultWidth
}
