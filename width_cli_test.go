package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dlayer/dlayer/fixtures"
)

// TestTextFitsWidth: at 80 columns (COLUMNS=80, as a terminal that wide
// exports it), no line of any command's text output is wider, except a
// line that holds one token and nothing else (a path or an ID longer than
// the line); tables clip their last column or become one record per row.
// At 100 (the width of a pipe's prose), the same.
func TestTextFitsWidth(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.PlainDemo(), fixtures.Options{})
	cmds := [][]string{
		{"ps"}, {"images"}, {"layers", "demo/app:2"}, {"explain", "web"}, {"explain", "batch"},
		{"du"}, {"du", "--by", "layer"}, {"du", "--by", "image"}, {"du", "--by", "container"}, {"du", "--by", "orphan"},
		{"verify", "--quick"}, {"whose", "containers"},
	}
	for _, cols := range []string{"80", "100"} {
		t.Run(cols, func(t *testing.T) {
			t.Setenv("COLUMNS", cols)
			w := map[string]int{"80": 80, "100": 100}[cols]
			for _, c := range cmds {
				out, errOut, code := runCLI(append([]string{"--root", b.Root, "--mountinfo", "none", "--daemon", "off"}, c...)...)
				if code != 0 && code != 1 {
					t.Fatalf("%v: exit %d: %s", c, code, errOut)
				}
				for _, line := range strings.Split(out, "\n") {
					line = strings.TrimRight(line, " ")
					if utf8.RuneCountInString(line) > w && strings.ContainsRune(strings.TrimSpace(line), ' ') {
						t.Errorf("%v: a line of %d columns at %d:\n%s", c, utf8.RuneCountInString(line), w, line)
					}
				}
			}
		})
	}
}
