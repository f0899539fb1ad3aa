package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/browser"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/report"
)

// hostileNames are the files the hostile container creates (a dir
// named "/<script>alert(2)<" holds "script>", so that the path reads as
// a whole script element).
const hostileScript = `mkdir '/<script>alert(2)<' && touch '/<script>alert(2)</script>' '/<img src=x onerror=alert(1)>' '/"><svg onload=alert(3)>'`

// pageFacts is what the test reads of the report in the browser.
type pageFacts struct {
	Containers []struct {
		ID     string   `json:"id"`
		Layers int      `json:"layers"`
		Diff   []string `json:"diff"`
		Rows   int      `json:"rows"`
	} `json:"containers"`
	Maps []struct {
		Total  float64 `json:"total"`
		Leaves float64 `json:"leaves"`
		Count  int     `json:"count"`
	} `json:"maps"`
	Scripts int      `json:"scripts"`
	Images  int      `json:"images"`
	Handler []string `json:"handlers"`
	Paths   []string `json:"paths"`
}

// pageFactsJS reads pageFacts from the DOM.
const pageFactsJS = `(() => {
  const all = (root, sel) => Array.from(root.querySelectorAll(sel));
  const handlers = all(document, "*").flatMap(el => Array.from(el.attributes).filter(a => a.name.startsWith("on")).map(a => el.tagName + " " + a.name));
  return {
    containers: all(document, "section.container").map(s => ({
      id: s.dataset.id,
      layers: all(s, ".tower .layer").length,
      diff: all(s, "tr.change").filter(r => r.dataset.diff !== "-").map(r => r.dataset.diff + " " + r.querySelector("td.path").textContent),
      rows: all(s, "tr.change").filter(r => r.offsetParent !== null).length,
    })),
    maps: all(document, "svg.treemap").map(m => ({
      total: Number(m.dataset.total),
      leaves: all(m, "g.tm-leaf").reduce((sum, g) => sum + Number(g.dataset.bytes), 0),
      count: all(m, "g.tm-leaf").length,
    })),
    scripts: document.scripts.length,
    images: document.images.length,
    handlers: handlers,
    paths: all(document, "td.path").map(td => td.textContent),
  };
})()`

// TestReportBrowserE2E renders the report of a real engine's store in
// headless Chromium: no console error, nothing requested but the page,
// one tower per container with its layers, the change rows with a letter
// equal to dlayer diff (and docker diff), the treemap adding up to du's
// total, a hostile file name shown as text, and the kind filter working.
func TestReportBrowserE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	engine.NeedTool(t, "chromium")
	want, _ := e2eScenario(t, e)
	if out, err := e.Docker("run", "--network", "none", "--name", "hostile", "e2e:1", "sh", "-c", hostileScript); err != nil {
		t.Fatalf("hostile: %v\n%s", err, out)
	}
	ch, err := e.Changes("hostile")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ch {
		want["hostile"] = append(want["hostile"], l.Letter()+" "+report.Escape(l.Path))
	}
	ids := map[string]string{}
	names := []string{"hostile"}
	for _, c := range e2eContainers {
		names = append(names, c.name)
	}
	for _, name := range names {
		ci, err := e.InspectContainer(name)
		if err != nil {
			t.Fatal(err)
		}
		ids[ci.ID] = name
	}
	// a stopped engine: du's total and the report's are of the same bytes
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	root := e.Root()
	page := filepath.Join(t.TempDir(), "report.html")
	if _, errOut, code := runCLI("--root", root, "--daemon", "off", "report", "--html", page, "--settle", "0"); code != 0 {
		t.Fatalf("dlayer report: exit %d: %s", code, errOut)
	}
	u := (&url.URL{Scheme: "file", Path: page}).String()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := browser.Open(ctx, u, browser.Options{Width: 1280, Height: 900})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Settle(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	raw, err := browser.Eval[json.RawMessage](p, pageFactsJS)
	if err != nil {
		t.Fatal(err)
	}
	var f pageFacts
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}

	if len(f.Containers) != len(ids) {
		t.Errorf("%d towers, want one per container (%d)", len(f.Containers), len(ids))
	}
	for _, c := range f.Containers {
		name := ids[c.ID]
		x := explainJSON(t, root, "off", c.ID)
		if c.Layers != len(x.Layers) {
			t.Errorf("%s: the tower has %d layers, dlayer explain %d", name, c.Layers, len(x.Layers))
		}
		out, errOut, code := runCLI("--root", root, "--daemon", "off", "--mountinfo", "none", "diff", c.ID)
		if code != 0 {
			t.Fatalf("dlayer diff %s: exit %d: %s", name, code, errOut)
		}
		diff := slices.Sorted(slices.Values(strings.Split(strings.TrimSuffix(out, "\n"), "\n")))
		if out == "" {
			diff = nil
		}
		got := slices.Sorted(slices.Values(c.Diff))
		if strings.Join(got, "\n") != strings.Join(diff, "\n") {
			t.Errorf("%s: the rows with a docker diff letter\n%q\nare not dlayer diff's lines\n%q", name, got, diff)
		}
		// docker's JSON makes U+FFFD of an invalid byte: normalize does too
		if w, g := slices.Sorted(slices.Values(want[name])), normalize(strings.Join(got, "\n")); strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s: the rows with a docker diff letter\n%q\nare not docker diff's\n%q", name, g, w)
		}
	}

	r := duJSON(t, root)
	if len(f.Maps) == 0 {
		t.Fatal("no treemap")
	}
	m := f.Maps[0]
	if int64(m.Total) != r.Summary.Total.DiskUsage || int64(m.Leaves) != r.Summary.Total.DiskUsage {
		t.Errorf("treemap: total %.0f, its %d leaves add up to %.0f; dlayer du's total disk usage is %d", m.Total, m.Count, m.Leaves, r.Summary.Total.DiskUsage)
	}
	t.Logf("treemap: %d leaves adding up to %.0f bytes = du's total", m.Count, m.Leaves)

	if f.Scripts != 1 || f.Images != 0 || len(f.Handler) != 0 {
		t.Errorf("%d scripts (want the report's one), %d images, event handlers %q: a name became markup", f.Scripts, f.Images, f.Handler)
	}
	for _, name := range []string{"/<script>alert(2)</script>", "/<img src=x onerror=alert(1)>", `/"><svg onload=alert(3)>`} {
		if !slices.Contains(f.Paths, name) {
			t.Errorf("the hostile name %q is not a path cell's text", name)
		}
	}

	// the filter: unchecking "added" in hostile's section hides its added rows
	var hostile string
	for id, name := range ids {
		if name == "hostile" {
			hostile = id
		}
	}
	if err := p.Click(`section[data-id="` + hostile + `"] input.kind-filter[value="added"]`); err != nil {
		t.Fatal(err)
	}
	raw, err = browser.Eval[json.RawMessage](p, pageFactsJS)
	if err != nil {
		t.Fatal(err)
	}
	var after pageFacts
	if err := json.Unmarshal(raw, &after); err != nil {
		t.Fatal(err)
	}
	shown, err := browser.Eval[string](p, `document.querySelector('section[data-id="`+hostile+`"] .shown').textContent`)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range after.Containers {
		if c.ID != hostile {
			continue
		}
		added := 0
		for _, l := range want["hostile"] {
			if strings.HasPrefix(l, "A ") {
				added++
			}
		}
		if before := f.Containers[i].Rows; c.Rows != before-added || shown != strconv.Itoa(c.Rows) {
			t.Errorf("after unchecking added: %d rows shown (counter %q), want %d - %d", c.Rows, shown, before, added)
		}
	}

	for _, msg := range p.Messages() {
		if msg.IsError() {
			t.Errorf("the page says: %s", msg)
		}
	}
	for _, req := range p.Requests() {
		if req != u {
			t.Errorf("the page requested %s", req)
		}
	}
	if reqs := p.Requests(); len(reqs) == 0 {
		t.Error("no request seen at all: the network log is not being read")
	}
}
