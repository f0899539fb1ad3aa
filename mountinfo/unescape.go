package mountinfo

import "strings"

// unescape undoes the kernel's octal escapes. The kernel writes the
// characters of its escape set (for paths: space, tab, newline and
// backslash; for overlay options also ',' and '=') as a backslash and
// exactly three octal digits (fs/seq_file.c, seq_escape_mem), so "\040"
// is a space and "\134" a backslash. Decoding is a single pass: the
// output is never decoded again.
//
// With strict set, a backslash that does not start such an escape is an
// error: the kernel never writes one in a field it escapes. Without it,
// such a backslash is kept as is, for the super options of filesystems
// whose show_options do not escape their values.
func unescape(s string, strict bool) (string, error) {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if v, ok := octal3(s[i+1:]); ok {
			b.WriteByte(v)
			i += 3
			continue
		}
		if strict {
			return "", malformed("bad escape at byte %d of %q", i, s)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// octal3 decodes three leading octal digits of s as one byte.
func octal3(s string) (byte, bool) {
	if len(s) < 3 {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[:3]) {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	if v > 0xff {
		return 0, false
	}
	return byte(v), true
}
