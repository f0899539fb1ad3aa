package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect"
)

// TestWhoseBecause: every view result is explained in words, naming the
// deciding layer by its instruction.
func TestWhoseBecause(t *testing.T) {
	l3 := &inspect.WhoseHit{Role: "image", Position: 3, CreatedBy: "/bin/sh -c rm -rf /data/dir", Path: "/data/dir", Entry: "whiteout"}
	rw := &inspect.WhoseHit{Role: "rw", Path: "/etc/passwd", Entry: "file"}
	opq := &inspect.WhoseHit{Role: "init", Path: "/data", Entry: "opaque dir"}
	file := &inspect.WhoseAnswer{Entry: &inspect.WhoseEntry{Type: "file", Kind: "plain"}}
	dir := &inspect.WhoseAnswer{Entry: &inspect.WhoseEntry{Type: "dir", Kind: "plain"}}
	for _, tc := range []struct {
		a    *inspect.WhoseAnswer
		v    inspect.WhoseView
		want string
	}{
		{file, inspect.WhoseView{Result: inspect.ViewVisible}, "no lower layer has it"},
		{file, inspect.WhoseView{Result: inspect.ViewVisible, Below: &inspect.WhoseHit{Role: "image", Position: 1, Entry: "file"}}, "shadows the file of layer 1"},
		{dir, inspect.WhoseView{Result: inspect.ViewVisible, Below: &inspect.WhoseHit{Role: "image", Position: 1, Entry: "dir"}}, "merges with the dir of layer 1"},
		{file, inspect.WhoseView{Result: inspect.ViewShadowed, By: rw}, "the rw layer has its own file /etc/passwd"},
		{dir, inspect.WhoseView{Result: inspect.ViewShadowed, By: opq}, "the init layer has an opaque dir /data, which hides it"},
		{file, inspect.WhoseView{Result: inspect.ViewWhitedOut, By: rw}, "the rw layer deletes it: a whiteout /etc/passwd"},
		{file, inspect.WhoseView{Result: inspect.ViewHidden, By: l3}, "layer 3 (RUN rm -rf /data/dir) has a whiteout at /data/dir, above it"},
		{dir, inspect.WhoseView{Result: inspect.ViewMerged, By: &inspect.WhoseHit{Role: "rw", Path: "/app", Entry: "dir"}}, "the rw layer has a dir /app on top"},
		{file, inspect.WhoseView{Result: inspect.ViewDeletes}, "deletes nothing: no lower layer has it"},
		{file, inspect.WhoseView{Result: inspect.ViewFrom, By: rw}, "the file of the rw layer"},
		{file, inspect.WhoseView{Result: inspect.ViewAbsent}, "no layer has it"},
	} {
		if got := whoseBecause(tc.a, tc.v); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.v.Result, got, tc.want)
		}
	}
}

// TestWhoseEscapes: names from a layer never break the text apart.
func TestWhoseEscapes(t *testing.T) {
	a := &inspect.WhoseAnswer{Path: "/r/overlay2/x/diff/a\nb", Kind: inspect.PathLayerEntry, InLayer: "/a\nb", Exists: true, Type: "file",
		Owner: inspect.WhoseOwner{Kind: inspect.OwnerOrphan, ID: "x", Why: "nothing"},
		Entry: &inspect.WhoseEntry{Path: "/a\nb", Exists: true, Kind: "plain", Type: "symlink", LinkTarget: "../\x1b[31m"},
		Views: []inspect.WhoseView{{Of: "container", Name: "c\nd", Result: inspect.ViewFrom,
			By: &inspect.WhoseHit{Role: "rw", Path: "/a\nb", Entry: "file"}}},
		Verdict: inspect.WhoseVerdict{Safe: inspect.SafeYes, Reason: "orphan"}}
	var buf bytes.Buffer
	if err := Whose(&buf, a, WhoseOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"a\nb", "c\nd", "\x1b"} {
		if strings.Contains(out, bad) {
			t.Errorf("output holds %q:\n%s", bad, out)
		}
	}
	for _, good := range []string{`/a\nb in the content dir`, `container c\nd`, `symlink to ../\x1b[31m`} {
		if !strings.Contains(out, good) {
			t.Errorf("output lacks %q:\n%s", good, out)
		}
	}
}
