package report

import (
	"bufio"
	"io"
	"strings"
)

// widthWriter is a writer that knows the width of the terminal (or of
// what stands for it) its text goes to.
type widthWriter struct {
	io.Writer
	cols int
}

// Width is the width in columns text for the writer wraps to.
func (w widthWriter) Width() int { return w.cols }

// Unwrap is the writer WithWidth was given.
func (w widthWriter) Unwrap() io.Writer { return w.Writer }

// WithWidth returns w as a writer whose text and tables report wraps and
// fits to cols columns; cols ≤ 0 means no terminal: text wraps at
// DefaultWidth and tables keep their width (a pipe, a file).
func WithWidth(w io.Writer, cols int) io.Writer { return widthWriter{Writer: w, cols: cols} }

// widthOf is the terminal width of w; 0 when it has none.
func widthOf(w io.Writer) int {
	if x, ok := w.(interface{ Width() int }); ok && x.Width() > 0 {
		return x.Width()
	}
	return 0
}

// overWidth reports whether line is wider than cols and more than one
// token: the one thing a line may not be (a path or an ID longer than the
// line stands alone).
func overWidth(line string, cols int) bool {
	line = strings.TrimRight(line, " ")
	return len([]rune(line)) > cols && strings.ContainsRune(strings.TrimSpace(line), ' ')
}

// bufferedWriter is a buffer in front of a writer that keeps the
// writer's width (WithWidth): a long listing costs one write(2) per
// buffer, not one a line.
type bufferedWriter struct {
	*bufio.Writer
	cols int
}

// Width is the width of the writer the buffer flushes to.
func (w bufferedWriter) Width() int { return w.cols }

// buffered returns w behind a buffer that keeps w's width; the caller
// must Flush it.
func buffered(w io.Writer) bufferedWriter {
	return bufferedWriter{Writer: bufio.NewWriterSize(w, 64<<10), cols: widthOf(w)}
}
