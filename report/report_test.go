package report

import (
	"bytes"
	"encoding/json"
	"github.com/dlayer/dlayer/overlay2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/passwd":    "/etc/passwd",
		"/with space":    "/with space",
		"/ünïcode/日本":    "/ünïcode/日本",
		"/new\nline":     `/new\nline`,
		"/tab\t":         `/tab\t`,
		"/bad\xffbyte":   `/bad\xffbyte`,
		"/back\\slash":   `/back\\slash`,
		"/bell\a":        `/bell\a`,
		"/del\x7f":       `/del\x7f`,
		"/zero\u200bwid": `/zero\u200bwid`,
		"/esc\x1b[31m":   `/esc\x1b[31m`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"/a", "/new\nline", "bad\xff", `\`, "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) || strings.ContainsAny(e, "\n\r\t\x00") {
			t.Fatalf("Escape(%q) = %q: not one printable line", s, e)
		}
		if !needsEscape(s) && e != s {
			t.Fatalf("Escape changed a printable name %q", s)
		}
	})
}

func sample() *inspect.Explanation {
	mounted := true
	return &inspect.Explanation{
		Container: inspect.ContainerInfo{Container: inspect.Container{ID: strings.Repeat("ab", 32), Name: "web", ImageRef: "app:1",
			ImageID: digest.Digest("sha256:" + strings.Repeat("c", 64)), Driver: "overlay2", State: inspect.State{Status: "running", Running: true, Pid: 42}}},
		RWLayer: inspect.RWLayer{MountRecord: inspect.MountRecord{MountID: "m1", InitID: "m1-init"}, UpperDir: "/r/overlay2/m1/diff",
			LowerDirs: []string{"/r/overlay2/m1-init/diff", "/r/overlay2/c1/diff"}, LowerLinks: []string{"l/AAA", "l/BBB"},
			Mounted: &mounted, Mount: &inspect.LiveMount{MountPoint: "/r/overlay2/m1/merged"},
			Terms: overlay2.New().Open("/r", nil).Terms()},
		Layers: []inspect.StackLayer{{Role: "rw", CacheID: "m1"}, {Role: "init", CacheID: "m1-init"},
			{Role: "image", Position: 1, ChainID: digest.Digest("sha256:" + strings.Repeat("d", 64)), CacheID: "c1", Size: 1234,
				CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "}},
		Changes: []inspect.Change{
			{Path: "/evil\nD /etc/passwd", Kind: "added", Type: "file", DockerDiff: "A"},
			{Path: "/bad\xffname", Kind: "added", Type: "file", DockerDiff: "A"},
			{Path: "/etc/x", Kind: "whiteout", Type: "file", DockerDiff: "D", Marker: "char device 0/0",
				Origin: &inspect.Origin{Layer: "image", Position: 1, CreatedBy: "/bin/sh -c echo hi > /etc/x"}},
			{Path: "/etc/y", Kind: "whiteout", Type: "file", DockerDiff: "D"},
		},
		Diff: []inspect.DiffLine{{Kind: "A", Path: "/evil\nD /etc/passwd"}, {Kind: "A", Path: "/bad\xffname"}},
	}
}

func TestExplainTextIsSafeAndTeaches(t *testing.T) {
	var buf bytes.Buffer
	if err := Explain(&buf, sample(), ExplainOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`/evil\nD /etc/passwd`, `/bad\xffname`, "Whiteout: a deletion", "Added: the container created",
		"deletes file from layer 1", "RUN echo hi > /etc/x", "ADD file:abc in /", "mounted     yes, at /r/overlay2/m1/merged",
		"l/AAA", "-> /r/overlay2/m1-init/diff"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "Whiteout: a deletion") != 1 {
		t.Error("a kind is explained more than once")
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "D /etc/passwd") {
			t.Errorf("a name broke a line: %q", line)
		}
	}
	buf.Reset()
	Explain(&buf, sample(), ExplainOptions{Quiet: true})
	if strings.Contains(buf.String(), "Whiteout: a deletion") {
		t.Error("--quiet still explains")
	}
}

func TestExplainJSONEscapesInvalidUTF8(t *testing.T) {
	var buf bytes.Buffer
	x := sample()
	if err := ExplainJSON(&buf, Provenance{}, x); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Changes []struct {
			Path    string `json:"path"`
			Escaped bool   `json:"escaped"`
		} `json:"changes"`
		Diff []struct{ Path string } `json:"diff"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Changes[0].Path != "/evil\nD /etc/passwd" || back.Changes[0].Escaped {
		t.Errorf("valid UTF-8 must come back unchanged: %+v", back.Changes[0])
	}
	if back.Changes[1].Path != `/bad\xffname` || !back.Changes[1].Escaped {
		t.Errorf("invalid UTF-8 must be escaped and marked: %+v", back.Changes[1])
	}
	if x.Changes[1].Path != "/bad\xffname" {
		t.Error("ExplainJSON modified its input")
	}
	if !strings.Contains(buf.String(), `"created_by": "/bin/sh -c echo hi > /etc/x"`) {
		t.Error("JSON escapes HTML characters")
	}
}

func TestDiffLines(t *testing.T) {
	var buf bytes.Buffer
	Diff(&buf, sample().Diff)
	if got, want := buf.String(), "A /evil\\nD /etc/passwd\nA /bad\\xffname\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestInstruction(t *testing.T) {
	for in, want := range map[string]string{
		"/bin/sh -c #(nop) COPY file:e8b in /data/f.txt ": "COPY file:e8b in /data/f.txt",
		"/bin/sh -c chmod 600 /data/k":                    "RUN chmod 600 /data/k",
		"|1 ARG=x /bin/sh -c make":                        "RUN make",
		"Imported from -":                                 "Imported from -",
		"RUN /bin/sh -c apk add x # buildkit":             "RUN apk add x # buildkit",
	} {
		if got := Instruction(in); got != want {
			t.Errorf("Instruction(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDiffCountWhy: the reason the two counts differ is said with them.
func TestDiffCountWhy(t *testing.T) {
	for _, tc := range []struct {
		s    inspect.Summary
		want []string
	}{
		{inspect.Summary{NotInDiff: 2, DiffOnly: 3}, []string{"2 of the entries are not listed", "3 of its lines have no entry here"}},
		{inspect.Summary{NotInDiff: 1}, []string{"1 of the entries is not listed"}},
		{inspect.Summary{DiffOnly: 1}, []string{"1 of its lines has no entry here"}},
	} {
		got := diffCountWhy(tc.s)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v: %q lacks %q", tc.s, got, w)
			}
		}
	}
	if got := diffCountWhy(inspect.Summary{}); got != "" {
		t.Errorf("equal counts: %q", got)
	}
}
