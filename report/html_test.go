package report

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/opencontainers/go-digest"
	"golang.org/x/net/html"
)

// hostile are names a report shows: each must stay text.
var hostile = []string{`/<script>alert(1)</script>`, `/<img src=x onerror=alert(2)>`, `/"><svg onload=alert(3)>`, "/x'&amp;y"}

func htmlSample() HTMLInput {
	x := sample()
	for _, p := range hostile {
		x.Changes = append(x.Changes, inspect.Change{Path: p, Kind: inspect.KindAdded, Type: "file", DockerDiff: "A", Size: 3})
		x.Diff = append(x.Diff, inspect.DiffLine{Kind: "A", Path: p})
	}
	// a line of docker diff no entry lists: below a deleted dir
	x.Diff = append(x.Diff, inspect.DiffLine{Kind: "D", Path: "/etc/x"}, inspect.DiffLine{Kind: "D", Path: "/etc/x/below"}, inspect.DiffLine{Kind: "D", Path: "/etc/y"})
	x.Container.Name = "<b>web</b>"
	r := duSample()
	r.Orphans[0].Name = "<script>orphan</script>"
	v := &verify.Report{Root: "/r", Complete: true, Findings: []verify.Finding{{Kind: "diff_id_mismatch", Check: "content", ObjectType: "layer",
		Object: "sha256:" + strings.Repeat("e", 64), Path: "/<script>x", Expected: "sha256:1", Actual: "sha256:2", Message: "<i>differs</i>"}}}
	return HTMLInput{Provenance: Provenance{Tool: "dlayer", Version: "(devel)", Root: "/r<script>", Command: []string{"dlayer", "report", "--html", "<x>.html"}},
		Containers: []*inspect.Explanation{x}, Errors: []string{`no such container "<script>"`}, DU: r, Verify: v, VerifyDepth: VerifyContent}
}

func renderHTML(t *testing.T, in HTMLInput) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), doc
}

// elements are the document's elements by tag name.
func elements(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// TestHTMLNamesAreText: a hostile name adds no element and no attribute:
// one script (the report's own), no img, no event handler; the name is
// in the page's text as written.
func TestHTMLNamesAreText(t *testing.T) {
	_, doc := renderHTML(t, htmlSample())
	if n := len(elements(doc, "script")); n != 1 {
		t.Errorf("%d script elements, want the report's one", n)
	}
	for _, tag := range []string{"img", "b", "i", "iframe", "object"} {
		if n := len(elements(doc, tag)); n != 0 {
			t.Errorf("%d %s elements: a name became markup", n, tag)
		}
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>: an event handler", n.Data, a.Key, a.Val)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	body := text(elements(doc, "main")[0])
	for _, p := range append(hostile, "<b>web</b>", "<script>orphan</script>", `no such container "<script>"`, "<i>differs</i>") {
		if !strings.Contains(body, p) {
			t.Errorf("%q is not in the page's text", p)
		}
	}
}

// TestHTMLPolicy: the page's Content-Security-Policy allows its own style
// and script by their hashes and nothing else, so that the browser loads
// nothing and runs nothing else.
func TestHTMLPolicy(t *testing.T) {
	_, doc := renderHTML(t, htmlSample())
	var csp string
	for _, m := range elements(doc, "meta") {
		if attr(m, "http-equiv") == "Content-Security-Policy" {
			csp = attr(m, "content")
		}
	}
	style, script := text(elements(doc, "style")[0]), text(elements(doc, "script")[0])
	for _, want := range []string{"default-src 'none'", "style-src '" + cspHash(style) + "'", "script-src '" + cspHash(script) + "'", "img-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	for _, n := range append(elements(doc, "link"), append(elements(doc, "img"), elements(doc, "iframe")...)...) {
		t.Errorf("<%s> would load something", n.Data)
	}
	for _, tag := range []string{"a", "rect", "div", "td", "svg"} {
		for _, n := range elements(doc, tag) {
			if attr(n, "style") != "" {
				t.Errorf("<%s style=…>: an inline style the policy refuses", tag)
			}
			if h := attr(n, "href"); h != "" && !strings.HasPrefix(h, "#") {
				t.Errorf("<%s href=%q>: a link off the page", tag, h)
			}
		}
	}
}

// TestHTMLChanges: the rows with a docker diff letter are docker diff's
// lines, one each; the others are the entries docker diff does not list.
func TestHTMLChanges(t *testing.T) {
	in := htmlSample()
	_, doc := renderHTML(t, in)
	x := in.Containers[0]
	var lines []string
	for _, tr := range elements(doc, "tr") {
		if attr(tr, "class") != "change" {
			continue
		}
		if l := attr(tr, "data-diff"); l != "-" {
			lines = append(lines, l+" "+text(elements(tr, "code")[0]))
		}
	}
	var want []string
	for _, d := range x.Diff {
		want = append(want, d.Kind+" "+Escape(d.Path))
	}
	slices.Sort(lines)
	slices.Sort(want)
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows with a letter:\n%q\nwant docker diff's lines:\n%q", lines, want)
	}
	in.MaxChanges = 2
	_, doc = renderHTML(t, in)
	rows := 0
	for _, tr := range elements(doc, "tr") {
		if attr(tr, "class") == "change" {
			rows++
		}
	}
	total := len(x.Changes) + 1 // and /etc/x/below
	if rows != 2 || !strings.Contains(text(doc), fmt.Sprintf("The first 2 of %d changes", total)) {
		t.Errorf("--max-changes 2: %d rows, and the page does not say it holds 2 of %d", rows, total)
	}
}

// TestTreemapAddsUp: the treemap's leaves add up to the audit's total,
// each box inside its parent's, each leaf's area in proportion to its
// bytes.
func TestTreemapAddsUp(t *testing.T) {
	r := duSample()
	// layers of several images, no image, and more images than a node shows
	for i := range 60 {
		id := digest.FromString(strconv.Itoa(i))
		r.Images = append(r.Images, du.Image{ID: id, Tags: []string{"img" + strconv.Itoa(i)}, Counted: true})
		r.Layers = append(r.Layers, du.Layer{Layer: inspect.Layer{ChainID: digest.FromString("l" + strconv.Itoa(i))}, DiskUsage: int64(4096 * (i + 1)), Images: []digest.Digest{id}})
	}
	r.Layers = append(r.Layers, du.Layer{Layer: inspect.Layer{ChainID: digest.FromString("shared")}, DiskUsage: 1 << 20, Images: []digest.Digest{digest.FromString("1"), digest.FromString("2")}})
	var sum int64
	for _, l := range r.Layers {
		sum += l.DiskUsage
	}
	sum += r.Orphans[0].DiskUsage
	r.Summary.Total.DiskUsage = sum + 12345 // some the audit charged to no owner
	root := DiskMap(r)
	if root.Bytes != r.Summary.Total.DiskUsage {
		t.Fatalf("map total %d, want the audit's %d", root.Bytes, r.Summary.Total.DiskUsage)
	}
	boxes := Treemap(root, tmWidth, tmHeight)
	var leaves int64
	area := (tmWidth - 2*tmPad) * (tmHeight - 2*tmPad) / float64(root.Bytes) // inside the root's padding
	for _, b := range boxes {
		if b.X < -1e-6 || b.Y < -1e-6 || b.X+b.W > tmWidth+1e-6 || b.Y+b.H > tmHeight+1e-6 {
			t.Errorf("%s: box %+v outside the map", b.Node.Name, b)
		}
		if b.Leaf {
			leaves += b.Node.Bytes
		}
		if b.Depth == 1 { // the owners' boxes: no padding inside yet
			if got, want := b.W*b.H, float64(b.Node.Bytes)*area; math.Abs(got-want) > 0.01*want+1 {
				t.Errorf("%s: area %.0f, want %.0f", b.Node.Name, got, want)
			}
		}
	}
	if leaves != root.Bytes {
		t.Errorf("leaves sum to %d, want %d", leaves, root.Bytes)
	}
	var kids int
	for _, k := range root.Kids {
		if k.Owner == OwnerImages {
			kids = len(k.Kids)
		}
	}
	if kids > maxKids {
		t.Errorf("images: %d children shown, want at most %d", kids, maxKids)
	}
	page := newHTMLPage(HTMLInput{DU: r})
	if got := len(page.Disk[0].Bars); got != maxBars || page.Disk[0].MoreImages != 60-maxBars {
		t.Errorf("%d bars, %d left out; want %d and %d", got, page.Disk[0].MoreImages, maxBars, 60-maxBars)
	}
}

// TestHTMLVerifyStates: the integrity section says what ran.
func TestHTMLVerifyStates(t *testing.T) {
	in := htmlSample()
	in.Verify, in.VerifyDepth = nil, VerifyOff
	out, _ := renderHTML(t, in)
	if !strings.Contains(out, "Not run (<code>--verify off</code>)") {
		t.Error("--verify off: the page does not say verify did not run")
	}
	in.VerifyDepth, in.VerifyError = VerifyContent, "open /r/image: <denied>"
	out, _ = renderHTML(t, in)
	if !regexp.MustCompile(`Not verified: open /r/image: &lt;denied&gt;`).MatchString(out) {
		t.Error("a verify error is not shown, escaped")
	}
}
