package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/clitest"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
	"github.com/opencontainers/go-digest"
)

// TestLayersContentsCLI: layers --contents on the demo store, of an image
// and of a container: what each layer did, and the waste, exactly.
func TestLayersContentsCLI(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	base := []string{"--root", b.Root, "--mountinfo", "none", "--daemon", "off"}
	run := func(args ...string) (string, string, int) {
		return runCLI(append(append([]string{}, base...), args...)...)
	}

	out, errOut, code := run("--format", "json", "layers", "--contents", "demo/app:2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if why, err := clitest.CheckDocument("docs/schema", []byte(out)); err != nil {
		t.Fatalf("the document does not follow its schema: %v\n%s", err, why)
	}
	var r anatomy.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	// layer 3 deletes /usr/share/doc/a.txt (12 bytes, layer 1); layer 4
	// rewrites /app/bin/app (8 bytes of layer 3's)
	if r.Waste.Bytes != 20 || r.Waste.Entries != 2 || len(r.Layers) != 4 || r.Layers[2].Deleted.Entries != 1 || r.Layers[0].Wasted.Bytes != 12 || r.Layers[2].Wasted.Bytes != 8 {
		t.Errorf("demo/app:2: waste %+v, layers %+v", r.Waste.Count, r.Layers)
	}
	if r.Layers[0].Added.Bytes != r.Layers[0].Size {
		t.Errorf("the base adds %d bytes, its size is %d", r.Layers[0].Added.Bytes, r.Layers[0].Size)
	}

	// images --waste: the same numbers per image; explain: what web's
	// writable layer hides, as layers --contents web says
	out, _, _ = run("--format", "json", "images", "--waste")
	var imgs struct {
		Images []struct {
			Tags  []string
			Waste *anatomy.Count
		}
	}
	if err := json.Unmarshal([]byte(out), &imgs); err != nil {
		t.Fatal(err)
	}
	for _, im := range imgs.Images {
		want := map[string]int64{"demo/app:2": 20, "demo/base:1": 12}[im.Tags[0]]
		if im.Waste == nil || im.Waste.Bytes != want {
			t.Errorf("images --waste: %s: %+v, want %d bytes", im.Tags[0], im.Waste, want)
		}
	}
	out, _, _ = run("--format", "json", "layers", "--contents", "web")
	var cr anatomy.Report
	if err := json.Unmarshal([]byte(out), &cr); err != nil {
		t.Fatal(err)
	}
	var byRW anatomy.Count
	for _, g := range cr.Waste.Groups {
		if g.By == len(cr.Layers) {
			byRW = byRW.Plus(g.Count)
		}
	}
	x := clitest.ExplainJSON(t, runCLI, b.Root, "off", "web")
	if x.Summary.Hidden != byRW || byRW.Bytes != 190 {
		t.Errorf("explain web: hidden %+v; layers --contents web: %+v by the writable layer (want 190 bytes)", x.Summary.Hidden, byRW)
	}

	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"layers", "--contents", "demo/app:2"}, 0, []string{"Waste: 20B in 2 files no container of this image can see",
			"leaves 12B in layer 1", "make an image smaller; delete it in the RUN that created it.", "the older 8B stays in the image;"}},
		{[]string{"layers", "--contents", "web"}, 0, []string{"Container web", "hidden by an opaque dir of the writable layer", "this container cannot see"}},
		{[]string{"layers", "--layer", "3", "demo/base:1"}, 0, []string{"Entries of layer 3", "whiteout    /usr/share/doc/a.txt", "deletes layer 1"}},
		{[]string{"layers", "--layer", "9", "demo/base:1"}, 2, []string{"--layer 9: demo/base:1 has 3 layers"}},
		{[]string{"layers", "--layer", "0", "demo/base:1"}, 2, []string{"positions start at 1"}},
		{[]string{"layers", "--contents", "nope"}, 2, []string{`no container "nope"`}},
		{[]string{"images", "--waste"}, 0, []string{"WASTE", "Waste: 32B in 3 files of 2 images"}},
		{[]string{"explain", "web"}, 0, []string{"hidden     7 image files (190B) this container deleted"}},
		{[]string{"layers", "--waste", "demo/app:2"}, 0, []string{"Waste: 20B in 2 files no container of this image can see"}},
		{[]string{"layers", "--compare", "demo/base:1", "demo/app:2"}, 0, []string{"Shared: 3 layers", "Every layer of demo/base:1 is in demo/app:2, which adds 1"}},
		{[]string{"layers", "--compare", "demo/app:2", "demo/app:2"}, 0, []string{"No difference: the same layers."}},
		{[]string{"layers", "--compare", "demo/app:2"}, 2, []string{"wants two IMAGE arguments, got 1"}},
		{[]string{"layers", "--compare", "--contents", "demo/app:2", "demo/base:1"}, 2, []string{"different questions"}},
		{[]string{"layers", "--compare", "demo/app:2", "nope:1"}, 2, []string{`no image "nope:1"`}},
	} {
		out, errOut, code := run(tc.args...)
		for _, w := range tc.want {
			if code != tc.code || !strings.Contains(out+errOut, w) {
				t.Errorf("%q: exit %d (want %d), no %q in\n%s%s", tc.args, code, tc.code, w, out, errOut)
			}
		}
	}
}

// TestExplainHashCLI: explain --hash gives each added or changed regular
// file's sha256, equal to the file's in the upper dir.
func TestExplainHashCLI(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	x := clitest.ExplainJSON(t, func(args ...string) (string, string, int) {
		return runCLI(append(args, "--hash")...)
	}, b.Root, "off", "web")
	hashed := 0
	for _, c := range x.Changes {
		want := c.Type == "file" && (c.Kind == inspect.KindAdded || c.Kind == inspect.KindModified || c.Kind == inspect.KindCopiedUp)
		if want != (c.SHA256 != "") {
			t.Errorf("%s (%s %s): sha256 %q", c.Path, c.Kind, c.Type, c.SHA256)
		}
		if c.SHA256 == "" {
			continue
		}
		hashed++
		data, err := os.ReadFile(filepath.Join(x.RWLayer.UpperDir, c.Path))
		if err != nil {
			t.Fatal(err)
		}
		if got := digest.FromBytes(data).Encoded(); got != c.SHA256 {
			t.Errorf("%s: sha256 %s, the file's is %s", c.Path, c.SHA256, got)
		}
	}
	if hashed < 4 {
		t.Errorf("%d files hashed, want web's added and changed files (at least 4)", hashed)
	}
	out, _, _ := runCLI("--root", b.Root, "--mountinfo", "none", "--daemon", "off", "explain", "--hash", "web")
	if !strings.Contains(out, "      sha256 "+digest.FromString("v2\n").Encoded()) {
		t.Errorf("the text does not give /app/config.yml's sha256:\n%s", out)
	}
}
