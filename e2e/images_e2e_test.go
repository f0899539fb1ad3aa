package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/report"
)

// apiImage is one entry of GET /images/json (what docker images lists).
type apiImage struct {
	ID       string   `json:"Id"`
	ParentID string   `json:"ParentId"`
	RepoTags []string `json:"RepoTags"`
	Created  int64    `json:"Created"`
	Size     int64    `json:"Size"`
}

// apiContainer is one entry of GET /containers/json?all=1.
type apiContainer struct {
	Names   []string `json:"Names"`
	ImageID string   `json:"ImageID"`
}

// TestImagesLayersE2E builds, on a private real engine, images with the
// classic builder (which keeps an untagged intermediate image per step), a
// tag alias, a dangling image and containers in three states, then checks
// `dlayer images` against the engine's image list (docker images -a and
// docker images), /system/df sizes and the containers' images, and
// `dlayer layers` of every image against docker history --no-trunc and
// docker image inspect.
func TestImagesLayersE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("il-base:1"); err != nil {
		t.Fatal(err)
	}
	builds := []struct{ tag, df string }{
		{"il-app:1", "FROM il-base:1\nRUN mkdir /data && echo hello > /data/a && ln -s a /data/l\nENV X=1\n" +
			"COPY f.txt /data/f.txt\nRUN echo more > /data/b && rm /data/a\nLABEL team=storage\nCMD [\"sleep\", \"3600\"]\n"},
		{"il-other:1", "FROM il-base:1\nRUN dd if=/dev/zero of=/zero bs=1k count=40 2>/dev/null\n"},
		{"il-dangle:1", "FROM il-base:1\nRUN echo first > /v\n"},
		{"il-dangle:1", "FROM il-base:1\nRUN echo second > /v\n"}, // leaves the first untagged: dangling
	}
	for _, bd := range builds {
		if _, err := e.Build(bd.tag, bd.df, map[string]string{"f.txt": "file\n"}); err != nil {
			t.Fatal(err)
		}
	}
	mustDocker(t, e, "tag", "il-app:1", "il-app:alias")
	mustDocker(t, e, "run", "-d", "--network", "none", "--name", "il-running", "il-app:1")
	mustDocker(t, e, "create", "--network", "none", "--name", "il-created", "il-app:alias")
	mustDocker(t, e, "run", "--network", "none", "--name", "il-stopped", "il-other:1", "true")

	// Docker's own answers
	var all, top []apiImage
	var ctrs []apiContainer
	for path, out := range map[string]any{"/images/json?all=1": &all, "/images/json": &top, "/containers/json?all=1": &ctrs} {
		if err := e.API(http.MethodGet, path, nil, out); err != nil {
			t.Fatal(err)
		}
	}
	df, err := e.SystemDF()
	if err != nil {
		t.Fatal(err)
	}
	danglingOut, err := e.Docker("images", "--filter", "dangling=true", "--no-trunc", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < len(top)+5 || len(top) != 5 {
		t.Fatalf("the classic builder left %d images, %d listed without -a: want intermediate images and 5 listed (4 tagged, 1 dangling)", len(all), len(top))
	}

	out, errOut, code := runCLI("--root", e.Root(), "--format", "json", "images")
	var doc report.ImagesDocument
	if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("dlayer images: exit %d\n%s\n%s", code, errOut, out)
	}
	rows := doc.Images
	checkImageList(t, rows, all, top, strings.Fields(danglingOut))
	checkImageDF(t, rows, df)
	checkImageContainers(t, rows, ctrs)
	if table, errOut, code := runCLI("--root", e.Root(), "images"); code != 0 || errOut != "" ||
		!strings.Contains(table, "il-app:1, il-app:alias") || !strings.Contains(table, "<none> (dangling)") || !strings.Contains(table, "<none> (intermediate)") {
		t.Errorf("dlayer images table: exit %d %s\n%s", code, errOut, table)
	}

	inspected := map[string]imageInspect{}
	for _, im := range all {
		inspected[im.ID] = inspectImage(t, e, im.ID)
	}
	for _, im := range all {
		ref := im.ID[len("sha256:") : len("sha256:")+10] // an ID prefix for untagged images
		if len(im.RepoTags) > 0 && im.RepoTags[0] != "<none>:<none>" {
			ref = im.RepoTags[0]
		}
		checkLayersE2E(t, e, ref, im.ID, inspected)
	}
}

// checkImageList: the same images as docker images -a, with the same
// tags, parents, creation times (docker's order) and sizes; counted as
// docker images without -a lists; dangling as its dangling=true filter.
func checkImageList(t *testing.T, rows []report.ImageRow, all, top []apiImage, dangling []string) {
	t.Helper()
	if len(rows) != len(all) {
		t.Fatalf("dlayer lists %d images, docker images -a %d", len(rows), len(all))
	}
	byID := map[string]report.ImageRow{}
	for i, r := range rows {
		byID[string(r.ID)] = r
		// docker images sorts by Created seconds, newest first: the
		// sequence of seconds is the same whatever the order of ties
		if r.Created.Unix() != all[i].Created {
			t.Errorf("row %d: created %d, docker images -a row %d created %d", i, r.Created.Unix(), i, all[i].Created)
		}
		if i > 0 && r.Created.After(rows[i-1].Created) {
			t.Errorf("row %d is newer than row %d", i, i-1)
		}
	}
	for _, want := range all {
		got, ok := byID[want.ID]
		tags := want.RepoTags
		if len(tags) == 1 && tags[0] == "<none>:<none>" {
			tags = []string{}
		}
		sort.Strings(tags)
		if !ok || !reflect.DeepEqual(got.Tags, tags) || string(got.Parent) != want.ParentID || got.Size != want.Size || got.Created.Unix() != want.Created {
			t.Errorf("image %s: dlayer %+v\ndocker tags %v parent %q size %d created %d", want.ID, got, tags, want.ParentID, want.Size, want.Created)
		}
	}
	listed := map[string]bool{}
	for _, im := range top {
		listed[im.ID] = true
	}
	isDangling := map[string]bool{}
	for _, id := range dangling {
		isDangling[id] = true
	}
	if len(dangling) != 1 {
		t.Errorf("docker lists %d dangling images, the scenario makes 1", len(dangling))
	}
	for _, r := range rows {
		if r.Counted != listed[string(r.ID)] || r.Dangling != isDangling[string(r.ID)] {
			t.Errorf("image %s %v: counted %v dangling %v; docker images lists it: %v, dangling: %v",
				r.ID, r.Tags, r.Counted, r.Dangling, listed[string(r.ID)], isDangling[string(r.ID)])
		}
	}
}

// checkImageDF: Size, SharedSize and container counts equal /system/df's
// for every image it lists; UniqueSize = Size - SharedSize.
func checkImageDF(t *testing.T, rows []report.ImageRow, df engine.DF) {
	t.Helper()
	byID := map[string]report.ImageRow{}
	for _, r := range rows {
		byID[string(r.ID)] = r
	}
	for _, want := range df.Images {
		got := byID[want.ID]
		if got.Size != want.Size || got.SharedSize != want.SharedSize || got.UniqueSize != want.Size-want.SharedSize || int64(got.Containers) != want.Containers {
			t.Errorf("image %s %v: dlayer size %d shared %d unique %d containers %d; /system/df %d, %d, containers %d",
				want.ID, want.RepoTags, got.Size, got.SharedSize, got.UniqueSize, got.Containers, want.Size, want.SharedSize, want.Containers)
		}
	}
	t.Logf("/system/df: %d images, sizes and container counts equal", len(df.Images))
}

// checkImageContainers: the containers of each image are those the engine
// says were created from it.
func checkImageContainers(t *testing.T, rows []report.ImageRow, ctrs []apiContainer) {
	t.Helper()
	want := map[string][]string{}
	for _, c := range ctrs {
		want[c.ImageID] = append(want[c.ImageID], strings.TrimPrefix(c.Names[0], "/"))
	}
	n := 0
	for _, r := range rows {
		w := want[string(r.ID)]
		sort.Strings(w)
		if w == nil {
			w = []string{}
		}
		if !reflect.DeepEqual(r.ContainerNames, w) || r.Containers != len(w) {
			t.Errorf("image %s %v: containers %v, engine %v", r.ID, r.Tags, r.ContainerNames, w)
		}
		n += len(w)
	}
	if n != 3 {
		t.Errorf("%d containers found by image, the scenario makes 3", n)
	}
}
