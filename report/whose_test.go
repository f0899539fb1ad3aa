package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/whose"
)

// TestWhoseBecause: every view result is explained in words, naming the
// deciding layer by its instruction.
func TestWhoseBecause(t *testing.T) {
	l3 := &whose.Hit{Role: "image", Position: 3, CreatedBy: "/bin/sh -c rm -rf /data/dir", Path: "/data/dir", Entry: "whiteout"}
	rw := &whose.Hit{Role: "rw", Path: "/etc/passwd", Entry: "file"}
	opq := &whose.Hit{Role: "init", Path: "/data", Entry: "opaque dir"}
	file := &whose.Answer{Entry: &whose.Entry{Type: "file", Kind: "plain"}}
	dir := &whose.Answer{Entry: &whose.Entry{Type: "dir", Kind: "plain"}}
	for _, tc := range []struct {
		a    *whose.Answer
		v    whose.View
		want string
	}{
		{file, whose.View{Result: whose.ViewVisible}, "no layer above changes it, none below has it"},
		{file, whose.View{Result: whose.ViewVisible, Below: &whose.Hit{Role: "image", Position: 1, Entry: "file"}}, "shadows the file of layer 1"},
		{dir, whose.View{Result: whose.ViewVisible, Below: &whose.Hit{Role: "image", Position: 1, Entry: "dir"}}, "merges with the dir of layer 1"},
		{file, whose.View{Result: whose.ViewShadowed, By: rw}, "the rw layer has its own file /etc/passwd"},
		{dir, whose.View{Result: whose.ViewShadowed, By: opq}, "the init layer has an opaque dir /data, which hides it"},
		{file, whose.View{Result: whose.ViewWhitedOut, By: rw}, "the rw layer deletes it: a whiteout /etc/passwd"},
		{file, whose.View{Result: whose.ViewHidden, By: l3}, "layer 3 (RUN rm -rf /data/dir) has a whiteout at /data/dir, above it"},
		{dir, whose.View{Result: whose.ViewMerged, By: &whose.Hit{Role: "rw", Path: "/app", Entry: "dir"}}, "the rw layer has a dir /app on top"},
		{file, whose.View{Result: whose.ViewDeletes}, "deletes nothing: no lower layer has it"},
		{file, whose.View{Result: whose.ViewFrom, By: rw}, "the file of the rw layer"},
		{file, whose.View{Result: whose.ViewAbsent}, "no layer has it"},
	} {
		if got := whoseBecause(tc.a, tc.v); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.v.Result, got, tc.want)
		}
	}
}

// TestWhoseEscapes: names from a layer never break the text apart.
func TestWhoseEscapes(t *testing.T) {
	a := &whose.Answer{Path: "/r/overlay2/x/diff/a\nb", Kind: whose.PathLayerEntry, InLayer: "/a\nb", Exists: true, Type: "file",
		Owner: whose.Owner{Kind: whose.OwnerOrphan, ID: "x", Why: "nothing"},
		Entry: &whose.Entry{Path: "/a\nb", Exists: true, Kind: "plain", Type: "symlink", LinkTarget: "../\x1b[31m"},
		Views: []whose.View{{Of: "container", Name: "c\nd", Result: whose.ViewFrom,
			By: &whose.Hit{Role: "rw", Path: "/a\nb", Entry: "file"}}},
		Verdict: whose.Verdict{Safe: whose.SafeYes, Reason: "orphan"}}
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

// TestWhoseDriverWords: what whose teaches about a layer dir, its content
// dir and an entry of it is in the driver's words (its Terms), not
// overlay2's.
func TestWhoseDriverWords(t *testing.T) {
	terms := backend.Terms{LayerDirHelp: "root/ is the layer's whole tree.", ContentHelp: "A root/ holds every layer below too."}
	for _, tc := range []struct {
		a    *whose.Answer
		want string
	}{
		{&whose.Answer{Path: "/r/ov/x", Kind: whose.PathLayerDir, Driver: "ov", LayerDir: "x", Terms: terms}, "root/ is the layer's whole tree."},
		{&whose.Answer{Path: "/r/ov/x/root/a", Kind: whose.PathLayerEntry, Driver: "ov", LayerDir: "x", InLayer: "/a", Terms: terms}, "A root/ holds every layer below too."},
		{&whose.Answer{Path: "/r/ov/x/root", Kind: whose.PathLayerContent, Driver: "ov", LayerDir: "x", Terms: terms}, "the content dir (root/) of"},
		{&whose.Answer{Path: "/r/au/d/x", Kind: whose.PathLayerContent, Driver: "au", LayerDir: "x"}, "the content dir of"},
		{&whose.Answer{Path: "/r/m/x/fs/a", Kind: whose.PathLayerEntry, Driver: "m", LayerDir: "x", InLayer: "/a"}, "A layer's content dir holds only"},
	} {
		var buf bytes.Buffer
		if err := Whose(&buf, tc.a, WhoseOptions{}); err != nil {
			t.Fatal(err)
		}
		if out := strings.Join(strings.Fields(buf.String()), " "); !strings.Contains(out, tc.want) || strings.Contains(out, "diff/") {
			t.Errorf("%s %s: %q, want %q and no diff/", tc.a.Kind, tc.a.Path, out, tc.want)
		}
	}
}
