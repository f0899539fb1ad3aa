package main

import (
	"fmt"
	"io"
	"strings"
)

// Why not urfave/cli's ToMan: it files the page in section 8, drops each
// command's Description and ArgsUsage (the arguments, the exit codes of
// verify and mounts), writes every value as ="" with the default twice,
// and passes the text through Markdown, which eats <root> and <none> as
// HTML. This writes roff directly from the same app.

// writeMan writes dlayer(1) in roff (man(7)).
func writeMan(w io.Writer, d cliDoc, exits []exitCode) error {
	m := &roff{w: w}
	m.line(`.TH DLAYER 1 "" %s "User Commands"`, quoteArg("dlayer "+d.Version))
	m.line(".SH NAME")
	m.line(`%s \- %s`, d.Name, m.esc(d.Usage))
	m.line(".SH SYNOPSIS")
	m.line(`.B dlayer`)
	m.line(`[\fIGLOBAL OPTIONS\fR] \fICOMMAND\fR [\fIOPTIONS\fR] [\fIARGUMENTS\fR]`)
	m.line(".SH DESCRIPTION")
	desc, _, _ := strings.Cut(d.Description, "EXIT CODES:")
	m.text(desc)
	m.line(".PP")
	m.line(`Flags may go anywhere on the line, before or after the command and its arguments, as with the docker CLI; an argument that begins with a dash goes after \fB\-\-\fR.`)
	m.line(".SH GLOBAL OPTIONS")
	for _, f := range d.Global {
		m.flag(f)
	}
	m.flag(docFlag{Long: "help", Short: "h", Usage: "show help: dlayer --help, dlayer COMMAND --help"})
	m.flag(docFlag{Long: "version", Short: "v", Usage: "print the version: module version, VCS revision and Go version"})
	m.line(".SH COMMANDS")
	for _, c := range d.Commands {
		m.line(`.SS "%s"`, m.esc(synopsis(c)))
		m.text(c.Usage + ".")
		if len(c.Aliases) > 0 {
			m.line(".PP")
			m.line(`Alias: %s.`, m.esc(strings.Join(c.Aliases, ", ")))
		}
		if c.ArgsUsage != "" {
			m.line(".PP")
			m.line(`\fIArguments:\fR %s`, m.esc(oneLine(c.ArgsUsage)))
		}
		if c.Description != "" {
			m.text(c.Description)
		}
		for _, f := range c.Flags {
			m.flag(f)
		}
	}
	m.line(".SH OUTPUT FORMATS")
	m.text("--format table (the default) prints tables and explanations for people. --format json prints the " +
		"command's result as JSON, the stable interface for scripts. On ps, images, layers, diff, mounts, " +
		"explain and whose, --format also takes a Go template (text/template) over the JSON fields, as the docker " +
		"CLI does: it runs once per item of the listing (each container, image, layer, change or mount; once over " +
		"the whole object for explain and whose), each item being its JSON object, and each run ends a line. " +
		"Strings are escaped as in the tables. Besides text/template's functions there are json and join.")
	m.line(".PP")
	m.line(".EX")
	m.line(`dlayer ps \-\-format '{{.name}} {{.state.status}}'`)
	m.line(`dlayer images \-\-format '{{join .tags ","}} {{.size}}'`)
	m.line(".EE")
	m.line(".SH SHELL COMPLETION")
	m.text("make install installs completions for bash, zsh and fish. Two commands, not listed above, print what it " +
		"installs: dlayer completion bash|zsh|fish prints a shell's completion script (source <(dlayer completion bash)), " +
		"and dlayer man prints this page. The scripts complete commands, flags and their values, and the containers " +
		"and images of the --root on the line, by asking dlayer itself.")
	m.line(".SH EXIT STATUS")
	for _, e := range exits {
		m.line(".TP")
		m.line(`.B %s`, m.esc(e.Code))
		m.line("%s", m.esc(e.Meaning))
	}
	if env := envOf(d); len(env) > 0 {
		m.line(".SH ENVIRONMENT")
		for _, e := range env {
			m.line(".TP")
			m.line(`.B %s`, e[0])
			m.line(`the default of \fB\-\-%s\fR`, e[1])
		}
	}
	m.line(".SH SEE ALSO")
	m.line(`\fBdocker\fR(1), \fBdocker\-diff\fR(1), \fBdu\fR(1); the reference in docs/ of the dlayer source.`)
	return m.err
}

// synopsis is a command's usage line: dlayer explain [OPTIONS] CONTAINER.
func synopsis(c docCommand) string {
	s := "dlayer " + c.Name
	if len(c.Flags) > 0 {
		s += " [OPTIONS]"
	}
	if first, _, _ := strings.Cut(c.ArgsUsage, " "); first != "" {
		s += " " + first
	}
	return s
}

// envOf is each environment variable a flag reads, with the flag.
func envOf(d cliDoc) [][2]string {
	var out [][2]string
	for _, f := range d.Global {
		for _, e := range f.Env {
			out = append(out, [2]string{e, f.Long})
		}
	}
	return out
}

// oneLine joins a text's lines with single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// roff writes man(7) source; the first write error sticks.
type roff struct {
	w   io.Writer
	err error
}

func (m *roff) line(format string, a ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format+"\n", a...)
	}
}

// esc makes text safe in roff: backslashes are \e, dashes \- (so that an
// option copies as typed), the typographic characters of the help texts
// ASCII (a terminal in the C locale has no glyph for them, and man warns),
// and a line cannot start a request.
func (m *roff) esc(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = asciiPunct.Replace(s)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// text writes paragraphs: blocks separated by a blank line. Lines of a
// block are filled, except lines indented by spaces: a table row such as
// EXIT CODES' "   0  no findings" (a tag, two spaces, a text) becomes a
// tagged paragraph, any other is kept as it is.
func (m *roff) text(s string) {
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		m.line(".PP")
		var fill []string
		flush := func() {
			if len(fill) > 0 {
				m.line("%s", m.esc(strings.Join(fill, " ")))
				fill = nil
			}
		}
		for _, l := range strings.Split(para, "\n") {
			if strings.HasPrefix(l, " ") {
				flush()
				t := strings.TrimSpace(l)
				if tag, text, ok := strings.Cut(t, "  "); ok { // "0  no findings"
					m.line(".TP")
					m.line(`.B %s`, m.esc(tag))
					m.line("%s", m.esc(strings.TrimSpace(text)))
					continue
				}
				m.line(".nf")
				m.line(`\ \ %s`, m.esc(t))
				m.line(".fi")
				continue
			}
			if t := strings.TrimSpace(l); t != "" {
				fill = append(fill, t)
			}
		}
		flush()
	}
}

// flag writes one option as a tagged paragraph.
func (m *roff) flag(f docFlag) {
	m.line(".TP")
	tag := `\fB\-\-` + m.esc(f.Long) + `\fR`
	if f.Short != "" {
		tag = `\fB\-` + m.esc(f.Short) + `\fR, ` + tag
	}
	if f.Placeholder != "" {
		tag += ` \fI` + m.esc(f.Placeholder) + `\fR`
	}
	m.line("%s", tag)
	u := f.Usage
	if f.Default != "" {
		u += " (default: " + f.Default + ")"
	}
	if len(f.Env) > 0 {
		u += " [$" + strings.Join(f.Env, ", $") + "]"
	}
	m.line("%s", m.esc(u))
}

// asciiPunct spells the help texts' typographic characters in ASCII.
var asciiPunct = strings.NewReplacer("…", "...", "≥", ">=", "≤", "<=", "→", "->", "←", "<-", "—", "--", "–", "-",
	"×", "x", "“", `"`, "”", `"`, "‘", "'", "’", "'")

// quoteArg is a roff macro argument in double quotes.
func quoteArg(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\e`), `"`, `\(dq`) + `"`
}
