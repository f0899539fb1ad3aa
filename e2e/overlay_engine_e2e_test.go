package e2e

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/report"
)

// ovEngine is what the engine said while it ran: docker diff (sorted)
// and docker inspect GraphDriver.Data and ID of each container, the
// image's docker image inspect and history, the image and container
// lists and /system/df.
type ovEngine struct {
	imageID     string
	want        map[string][]string
	graph       map[string]map[string]string
	ids         map[string]string
	img         imageInspect
	hist        []historyRow
	all, top    []apiImage
	ctrs        []apiContainer
	dangling    []string
	df          engine.DF
	runningUp   string // the running container's upper dir
	runningLow  string // and its one lowerdir
	runningName string
}

func ovEngineAnswers(t *testing.T, e *engine.Engine, imageID string) *ovEngine {
	t.Helper()
	eng := &ovEngine{imageID: imageID, want: map[string][]string{}, graph: map[string]map[string]string{}, ids: map[string]string{}}
	for _, c := range ovContainers {
		ch, err := e.Changes(c.name)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ch {
			eng.want[c.name] = append(eng.want[c.name], l.Letter()+" "+report.Escape(l.Path))
		}
		sort.Strings(eng.want[c.name])
		ci, err := e.InspectContainer(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if ci.Driver != "overlay" || ci.GraphDriver.Name != "overlay" {
			t.Fatalf("%s: driver %q, graph driver %q: the engine does not run the legacy overlay driver", c.name, ci.Driver, ci.GraphDriver.Name)
		}
		eng.graph[c.name], eng.ids[c.name] = ci.GraphDriver.Data, ci.ID
		if c.detach {
			eng.runningName, eng.runningUp, eng.runningLow = c.name, ci.GraphDriver.Data["UpperDir"], ci.GraphDriver.Data["LowerDir"]
		}
	}
	eng.img = inspectImage(t, e, imageID)
	for path, out := range map[string]any{"/images/json?all=1": &eng.all, "/images/json": &eng.top, "/containers/json?all=1": &eng.ctrs} {
		if err := e.API(http.MethodGet, path, nil, out); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if eng.df, err = e.SystemDF(); err != nil {
		t.Fatal(err)
	}
	dangling, err := e.Docker("images", "--filter", "dangling=true", "--no-trunc", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	eng.dangling = strings.Fields(dangling)
	hout, err := e.Docker("history", "--no-trunc", "--human=false", "--format", "{{json .}}", imageID)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(hout, "\n") {
		var h historyRow
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatalf("docker history line %q: %v", line, err)
		}
		eng.hist = append([]historyRow{h}, eng.hist...)
	}
	return eng
}

// ovView is one form of the store: the live root (with its daemon and
// mounts), the root with the daemon stopped, a copy.
type ovView struct {
	root, origRoot, daemon string
	live                   bool
}

// re maps a path of the engine's root into the view's.
func (v ovView) re(p string) string { return strings.ReplaceAll(p, v.origRoot, v.root) }
