package report

import (
	"fmt"
	"io"

	"github.com/dlayer/dlayer/inspect"
)

// Diff writes changes as `docker diff` prints them: "A /path", one a line,
// each path escaped (see Escape).
func Diff(w io.Writer, lines []inspect.DiffLine) error {
	for _, l := range lines {
		if _, err := fmt.Fprintf(w, "%s %s\n", l.Kind, Escape(l.Path)); err != nil {
			return err
		}
	}
	return nil
}

// DiffJSON writes changes as a DiffDocument.
func DiffJSON(w io.Writer, p Provenance, lines []inspect.DiffLine) error {
	out := make([]inspect.DiffLine, len(lines))
	for i, l := range lines {
		l.Path, _ = jsonString(l.Path)
		out[i] = l
	}
	return JSON(w, DiffDocument{NewHeader(SchemaDiff, p), out})
}
