package report

import (
	"io"

	"github.com/dlayer/dlayer/inspect"
)

// Diff writes changes as `docker diff` prints them: "A /path", one a line,
// each path escaped (see Escape).
func Diff(w io.Writer, lines []inspect.DiffLine) error {
	b := buffered(w)
	for _, l := range lines {
		b.WriteString(l.Kind)
		b.WriteByte(' ')
		b.WriteString(Escape(l.Path))
		if err := b.WriteByte('\n'); err != nil {
			return err
		}
	}
	return b.Flush()
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
