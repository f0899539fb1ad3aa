package report

import (
	"bytes"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// table writes rows as `docker ps` does: upper-case headers, columns
// padded with spaces, no borders. Cells must already be escaped. It fits
// the writer's width (WithWidth): first the last column's text is
// clipped (a cell of one token, an ID or a path, never is); when that is
// not enough, each row is written as a record, one "LABEL  value" line a
// column, a value too long for any line alone on its own line.
func table(w io.Writer, header []string, rows [][]string) error {
	cols := widthOf(w)
	out, err := renderTable(header, rows)
	if err != nil || cols <= 0 || fits(out, cols) { // no terminal: as wide as it is
		return writeTrimmed(w, out, err)
	}
	if last := len(header) - 1; last > 0 {
		wide := 0
		for _, line := range bytes.Split(out, []byte("\n")) {
			wide = max(wide, len([]rune(strings.TrimRight(string(line), " "))))
		}
		clipped := make([][]string, len(rows))
		for i, r := range rows {
			clipped[i] = append([]string(nil), r...)
			if c := clipped[i][last]; strings.ContainsRune(c, ' ') {
				clipped[i][last] = clip(c, max(12, len([]rune(c))-(wide-cols)))
			}
		}
		if out2, err := renderTable(header, clipped); err == nil && fits(out2, cols) {
			return writeTrimmed(w, out2, nil)
		}
	}
	return records(w, header, rows, cols)
}

// fits reports whether no line of out is over cols but a lone token.
func fits(out []byte, cols int) bool {
	for _, line := range strings.Split(string(out), "\n") {
		if overWidth(line, cols) {
			return false
		}
	}
	return true
}

// records writes each row as lines "LABEL  value", a blank line between
// rows: what a table becomes on a terminal too narrow for it.
func records(w io.Writer, header []string, rows [][]string, cols int) error {
	wide := 0
	for _, h := range header {
		wide = max(wide, len(h))
	}
	p := &printer{w: w, width: cols}
	for i, r := range rows {
		if i > 0 {
			p.f("\n")
		}
		for j, h := range header {
			if j < len(r) && r[j] != "" {
				label := strings.ToUpper(h) + strings.Repeat(" ", wide-len(h)+2)
				p.field(label, r[j])
			}
		}
	}
	return p.err
}

// renderTable lays the rows out with tablewriter.
func renderTable(header []string, rows [][]string) ([]byte, error) {
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.On),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "   ", Overwrite: true}),
	)
	t.Header(header)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return nil, err
		}
	}
	if err := t.Render(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeTrimmed writes out without trailing spaces on its lines.
func writeTrimmed(w io.Writer, out []byte, err error) error {
	if err != nil {
		return err
	}
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		trimmed := bytes.TrimRight(line, " \n")
		if len(line) > 0 && line[len(line)-1] == '\n' {
			trimmed = append(trimmed, '\n')
		}
		if _, err := w.Write(trimmed); err != nil {
			return err
		}
	}
	return nil
}
