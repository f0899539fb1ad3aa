package main

import (
	"os"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
)

// TestFormatDocs runs every example of docs/format.md on the demo store,
// and checks its output word for word; every command that takes a
// template has one. $ROOT is the store, $MOUNTINFO a mountinfo file where
// web is mounted and batch's rw layer leaked. The daemon is never asked.
func TestFormatDocs(t *testing.T) {
	doc, err := os.ReadFile("docs/format.md")
	must(t, err)
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	vars := map[string]string{"ROOT": b.Root, "MOUNTINFO": demoMountinfo(t, b, true)}
	examples := consoleExamples(string(doc))
	seen := map[string]bool{}
	for _, ex := range examples {
		args, err := shellWords(strings.TrimPrefix(ex.line, "dlayer "), vars)
		if err != nil {
			t.Fatalf("%s: %v", ex.line, err)
		}
		out, errOut, code := runCLI(append([]string{"--daemon", "off"}, args...)...)
		if code > 1 || out != ex.output {
			t.Errorf("$ %s\nexit %d, stderr %s\ngot:\n%s\nthe doc says:\n%s", ex.line, code, errOut, out, ex.output)
		}
		for _, a := range args {
			if app := newApp(deps{backends: backends()}, nil, nil); app.Command(a) != nil {
				seen[app.Command(a).Name] = true
				break
			}
		}
	}
	for _, c := range []string{"ps", "images", "layers", "diff", "mounts", "explain", "whose"} {
		if !seen[c] {
			t.Errorf("docs/format.md has no example of %s --format TEMPLATE", c)
		}
	}
}

// example is one `$ dlayer …` line of a console block and what follows it.
type example struct{ line, output string }

// consoleExamples are the examples in the ```console blocks of a doc.
func consoleExamples(doc string) []example {
	var out []example
	for _, block := range strings.Split(doc, "```console\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		for _, ex := range strings.Split("\n"+block, "\n$ ")[1:] {
			line, output, _ := strings.Cut(ex, "\n")
			out = append(out, example{line: line, output: output})
		}
	}
	return out
}

// shellWords splits a command line as sh would for the forms the docs
// use: words, '…' (literal) and "…" (with $NAME expanded from vars).
func shellWords(line string, vars map[string]string) ([]string, error) {
	var words []string
	var w strings.Builder
	in := false // inside a word
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case ' ':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		case '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errUnclosed
			}
			w.WriteString(line[i+1 : i+1+j])
			i += j + 1
			in = true
		case '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return nil, errUnclosed
			}
			w.WriteString(os.Expand(line[i+1:i+1+j], func(k string) string { return vars[k] }))
			i += j + 1
			in = true
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words, nil
}

type docError string

func (e docError) Error() string { return string(e) }

const errUnclosed = docError("unclosed quote")
