package mountinfo

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error about text that does not follow
// the mountinfo format or the overlay option syntax. Test for it with
// errors.Is.
var ErrMalformed = errors.New("malformed")

// ErrNotOverlay is returned by [Mount.Overlay] for a mount whose
// filesystem type is not "overlay".
var ErrNotOverlay = errors.New("not an overlay mount")

// maxQuoted bounds how much of a bad line an error message quotes; the
// whole line stays available in [LineError.Text].
const maxQuoted = 256

// LineError reports one line of a mountinfo file that could not be
// parsed. Parse joins one LineError per bad line (errors.Join); each
// unwraps to an error that wraps [ErrMalformed].
type LineError struct {
	// File is the path given to [ReadFile], or "" when the text came
	// from an io.Reader.
	File string
	// Line is the 1-based line number.
	Line int
	// Text is the line as read, without its newline.
	Text string
	// Err says what is wrong; it wraps ErrMalformed.
	Err error
}

// Error names the file and line, says what is wrong and quotes the line
// (cut after maxQuoted bytes).
func (e *LineError) Error() string {
	name := e.File
	if name == "" {
		name = "mountinfo"
	}
	text := e.Text
	if len(text) > maxQuoted {
		text = text[:maxQuoted] + "..."
	}
	return fmt.Sprintf("%s:%d: %v: %q", name, e.Line, e.Err, text)
}

// Unwrap returns the cause, so errors.Is(err, ErrMalformed) holds.
func (e *LineError) Unwrap() error { return e.Err }

// malformed builds an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}
