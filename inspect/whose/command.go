package whose

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A suggested command is pasted into a shell by someone under pressure,
// and the names in it (containers, tags, files, volumes) come from the
// evidence: every word is quoted so that pasting runs exactly the command
// shown on exactly those names, and a name that cannot be pasted safely
// (a control byte, invalid UTF-8) gets no command at all.

// shellWord quotes w for a POSIX shell: as it is when it holds only
// characters no shell treats specially, else in single quotes, with each
// ' written as '\”.
func shellWord(w string) string {
	if w != "" && strings.IndexFunc(w, func(r rune) bool {
		return !(r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./:@%+=,-", r)))
	}) < 0 {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

// pasteable reports whether w can be shown in a terminal and pasted into
// a shell as it is: valid UTF-8 without control characters.
func pasteable(w string) bool {
	if !utf8.ValidString(w) {
		return false
	}
	return strings.IndexFunc(w, unicode.IsControl) < 0
}

// commandLine joins words into one shell command, each quoted; ok is false
// when a word cannot be pasted.
func commandLine(words ...string) (string, bool) {
	q := make([]string, len(words))
	for i, w := range words {
		if !pasteable(w) {
			return "", false
		}
		q[i] = shellWord(w)
	}
	return strings.Join(q, " "), true
}

// unpasteable is what a verdict says instead of a command it cannot give.
const unpasteable = "no command is suggested: a name in it holds bytes that cannot be pasted into a shell safely (control characters or invalid UTF-8)"

// suggest sets v.Instead to the commands, in order ("a; then b"), each
// word quoted; when a word cannot be pasted there is no command and the
// reason says why.
func (v *Verdict) suggest(cmds ...[]string) {
	var lines []string
	for _, c := range cmds {
		l, ok := commandLine(c...)
		if !ok {
			v.Instead = ""
			v.Reason += "; " + unpasteable
			return
		}
		lines = append(lines, l)
	}
	v.Instead = strings.Join(lines, "; then ")
}

// withCommand is v with the commands suggested.
func withCommand(v Verdict, cmds ...[]string) Verdict {
	v.suggest(cmds...)
	return v
}
