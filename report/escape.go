package report

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes a name safe to print on one line. Printable UTF-8 is kept
// as is, a backslash becomes `\\`, and everything else is written as a Go
// escape: `\n`, `\t`, `\x7f` for a byte of invalid UTF-8 or a control
// character, `\u200b` for a non-printable rune. A name without any of these
// comes out unchanged, so `dlayer diff` matches `docker diff` byte for byte
// on ordinary paths.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.IsPrint(r) || r == ' ':
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r) // 'x' with Go escapes
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if r == '\\' || (!unicode.IsPrint(r) && r != ' ') {
			return true
		}
	}
	return false
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// jsonString returns s unchanged when it is valid UTF-8 (JSON escapes
// control characters itself) and the Escape form otherwise; escaped says
// which.
func jsonString(s string) (out string, escaped bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	return Escape(s), true
}
