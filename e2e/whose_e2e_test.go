package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/whose"
)

// whoseDockerfile makes an image whose layer 2 has files that layer 3
// deletes (whiteouts), hides under a deleted dir, and hides under an
// opaque dir (a dir removed and made again).
const whoseDockerfile = `FROM whose-base:1
RUN mkdir -p /data/dir /data/o && echo a > /data/a && echo b > /data/b && echo f > /data/dir/f && echo o > /data/o/o && echo k > /data/k
RUN rm /data/b && rm -rf /data/dir /data/o && mkdir /data/o && echo n > /data/o/n
CMD ["sleep", "3600"]
`

// TestWhoseE2E asks dlayer whose about every kind of path of a real
// engine's data root and compares the answers with Docker's own: the
// GraphDriver.Data dirs of docker inspect (rw, work, merged, init and
// image lower dirs), the image's RootFS.Layers (layer positions and diff
// IDs), docker diff, and what a running container really sees.
func TestWhoseE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("whose-base:1"); err != nil {
		t.Fatal(err)
	}
	imageID, err := e.Build("whose:1", whoseDockerfile, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustDocker(t, e, "run", "--network", "none", "--name", "w-over", "whose:1", "sh", "-c", "echo x >> /data/a")
	mustDocker(t, e, "run", "--network", "none", "--name", "w-del", "whose:1", "sh", "-c", "rm /data/a")
	mustDocker(t, e, "run", "-d", "--network", "none", "--name", "w-run", "whose:1")
	mustDocker(t, e, "create", "--network", "none", "--name", "w-created", "whose:1")
	buildKit(t, e, "whose-bk:1", "FROM whose-base:1\nRUN echo bk > /bk\nCOPY f.txt /f.txt\n")
	root := e.Root()
	orphan := filepath.Join(root, "overlay2", strings.Repeat("0e", 32))
	writeSized(t, filepath.Join(orphan, "diff", "x"), 4321)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(orphan, old, old); err != nil {
		t.Fatal(err)
	}

	var img struct {
		RootFS struct{ Layers []string }
	}
	if err := e.API(http.MethodGet, "/images/whose:1/json", nil, &img); err != nil {
		t.Fatal(err)
	}
	n := len(img.RootFS.Layers)
	if n != 3 {
		t.Fatalf("whose:1 has %d layers, want 3", n)
	}
	ask := func(arg string) *whose.Answer {
		t.Helper()
		out, errOut, code := runCLI("--root", root, "--format", "json", "whose", arg)
		if code != 0 {
			t.Fatalf("whose %s: exit %d: %s", arg, code, errOut)
		}
		var a whose.Answer
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatal(err)
		}
		return &a
	}

	// Every dir docker inspect names, for every container.
	var layer2, layer3 string // the cache-ids of image layers 2 and 3
	for _, name := range []string{"w-over", "w-del", "w-run", "w-created"} {
		ci, err := e.InspectContainer(name)
		if err != nil {
			t.Fatal(err)
		}
		g := ci.GraphDriver.Data
		for dir, want := range map[string]struct {
			kind  whose.PathKind
			owner whose.OwnerKind
		}{
			filepath.Dir(g["UpperDir"]): {whose.PathLayerDir, whose.OwnerRWLayer},
			g["UpperDir"]:               {whose.PathLayerContent, whose.OwnerRWLayer},
			g["WorkDir"]:                {whose.PathLayerWork, whose.OwnerRWLayer},
		} {
			a := ask(dir)
			if a.Kind != want.kind || a.Owner.Kind != want.owner || a.Owner.Container.ID != ci.ID || "/"+a.Owner.Container.Name != ci.Name || a.Verdict.Safe != "no" {
				t.Errorf("%s %s: %s %s %+v", name, dir, a.Kind, a.Owner.Kind, a.Owner.Container)
			}
		}
		a := ask(g["MergedDir"])
		if a.Kind != whose.PathLayerMountpoint || a.Owner.Container.ID != ci.ID || a.Exists != (name == "w-run") {
			t.Errorf("%s merged: %s %+v exists %v", name, a.Kind, a.Owner.Container, a.Exists)
		}
		if name == "w-run" && (len(a.Mounts) != 1 || a.Mounts[0] != g["MergedDir"]) {
			t.Errorf("running container's mounts %v, docker says %s", a.Mounts, g["MergedDir"])
		}
		lowers := strings.Split(g["LowerDir"], ":")
		if len(lowers) != n+1 {
			t.Fatalf("%s: LowerDir %v", name, lowers)
		}
		if a := ask(lowers[0]); a.Owner.Kind != whose.OwnerInitLayer || a.Owner.Container.ID != ci.ID {
			t.Errorf("%s: first lower dir %s: %+v", name, lowers[0], a.Owner)
		}
		for i, dir := range lowers[1:] { // top first
			pos := n - i
			a := ask(dir)
			if a.Owner.Kind != whose.OwnerImageLayer || a.Owner.Layer.DiffID.String() != img.RootFS.Layers[pos-1] {
				t.Errorf("%s: lower %s: %+v, want diff id %s", name, dir, a.Owner.Layer, img.RootFS.Layers[pos-1])
				continue
			}
			found := false
			for _, u := range a.Owner.Layer.Images {
				if u.ID.String() == imageID && u.Position == pos && u.Layers == n {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: lower %s: images %+v, want whose:1 at %d/%d", name, dir, a.Owner.Layer.Images, pos, n)
			}
			switch pos {
			case 2:
				layer2 = a.Owner.Layer.CacheID
			case 3:
				layer3 = a.Owner.Layer.CacheID
			}
		}
	}

	// Files of layer 2: docker diff and the running container say what
	// each container sees.
	diffs := map[string]string{}
	for _, name := range []string{"w-over", "w-del"} {
		ch, err := e.Changes(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ch {
			if c.Path == "/data/a" {
				diffs[name] = c.Letter()
			}
		}
	}
	if diffs["w-over"] != "C" || diffs["w-del"] != "D" {
		t.Fatalf("docker diff of /data/a: %v", diffs)
	}
	for _, tc := range []struct {
		path  string
		views map[string]string // view name → result, deciding layer, path, entry
		inRun bool              // what test -e says in the running container
	}{
		{"/data/a", map[string]string{"w-over": "shadowed rw /data/a file", "w-del": "whited_out rw /data/a whiteout",
			"w-run": "visible -", "w-created": "visible -", "whose:1": "visible -"}, true},
		{"/data/k", map[string]string{"w-run": "visible -", "whose:1": "visible -"}, true},
		{"/data/b", map[string]string{"w-run": "whited_out image 3 /data/b whiteout", "whose:1": "whited_out image 3 /data/b whiteout"}, false},
		{"/data/dir/f", map[string]string{"w-run": "hidden image 3 /data/dir whiteout", "whose:1": "hidden image 3 /data/dir whiteout"}, false},
		{"/data/o/o", map[string]string{"w-run": "hidden image 3 /data/o opaque dir", "w-over": "hidden image 3 /data/o opaque dir"}, false},
	} {
		a := ask(filepath.Join(root, "overlay2", layer2, "diff", tc.path))
		// 4 containers, whose:1, and the classic builder's intermediate images
		if a.Entry == nil || a.Entry.Kind != "plain" || len(a.Views) != 4+len(a.Owner.Layer.Images) || len(a.Owner.Layer.Images) < 2 || a.Verdict.Safe != "no" {
			t.Errorf("%s: entry %+v, %d views, verdict %+v", tc.path, a.Entry, len(a.Views), a.Verdict)
		}
		for name, want := range tc.views {
			got := "no view"
			for _, v := range a.Views {
				if v.Name == name {
					got = string(v.Result) + " " + whoseBy(v.By)
				}
			}
			if got != want {
				t.Errorf("%s in %s: %q, want %q", tc.path, name, got, want)
			}
		}
		_, err := e.Docker("exec", "w-run", "test", "-e", tc.path)
		if (err == nil) != tc.inRun {
			t.Errorf("%s: the running container says exists=%v, dlayer %v", tc.path, err == nil, tc.inRun)
		}
	}
	// Layer 3's whiteout deletes layer 2's file.
	link3, err := os.ReadFile(filepath.Join(root, "overlay2", layer3, "link"))
	if err != nil {
		t.Fatal(err)
	}
	a := ask(filepath.Join(root, "overlay2", "l", string(link3), "data", "b")) // through l/, read as text
	if a.LayerDir != layer3 || a.InLayer != "/data/b" {
		t.Errorf("through l/%s: %s %s", link3, a.LayerDir, a.InLayer)
	}
	if a.Entry.Kind != "whiteout" || len(a.Views) == 0 || a.Views[0].Result != whose.ViewDeletes || a.Views[0].Below == nil || a.Views[0].Below.CacheID != layer2 {
		t.Errorf("layer 3 whiteout: %+v %+v", a.Entry, a.Views)
	}

	// Metadata files and bare names.
	run, _ := e.InspectContainer("w-run")
	mountID := filepath.Base(filepath.Dir(run.GraphDriver.Data["UpperDir"]))
	for arg, want := range map[string]whose.OwnerKind{
		"image/overlay2/layerdb/mounts/" + run.ID + "/mount-id": whose.OwnerRWLayer,
		"containers/" + run.ID + "/hostconfig.json":             whose.OwnerContainer,
		"containers/" + run.ID + "/hosts":                       whose.OwnerContainer,
		mountID:                                                 whose.OwnerRWLayer,
		layer2:                                                  whose.OwnerImageLayer,
		run.ID:                                                  whose.OwnerContainer,
	} {
		if a := ask(arg); a.Owner.Kind != want || (a.Owner.Container != nil && a.Owner.Container.ID != run.ID) {
			t.Errorf("%s: %+v", arg, a.Owner)
		}
	}
	a = ask("image/overlay2/imagedb/content/sha256/" + strings.TrimPrefix(imageID, "sha256:"))
	if a.Kind != whose.PathImageConfig || a.Owner.Image == nil || a.Owner.Image.Layers != n || len(a.Owner.Image.Containers) != 4 || a.Owner.Image.Tags[0] != "whose:1" {
		t.Errorf("image config: %+v", a.Owner.Image)
	}
	link, err := os.ReadFile(filepath.Join(root, "overlay2", mountID, "link"))
	if err != nil {
		t.Fatal(err)
	}
	if a := ask(string(link)); a.Kind != whose.PathShortLink || a.Link.LayerDir != mountID || a.Owner.Container.ID != run.ID {
		t.Errorf("bare link %s: %+v %+v", link, a.Link, a.Owner)
	}

	// The orphan made by hand, and BuildKit's build cache, as du sees them.
	a = ask(orphan)
	out, err := exec.Command("du", "-sxB1", orphan).Output()
	if err != nil {
		t.Fatal(err)
	}
	if a.Owner.Kind != whose.OwnerOrphan || a.Usage == nil || a.Usage.Size != 4321 || strconv.FormatInt(a.Usage.DiskUsage, 10) != strings.Fields(string(out))[0] || a.Verdict.Safe != "yes" {
		t.Errorf("orphan: %+v %+v %+v (du -sxB1 %s)", a.Owner, a.Usage, a.Verdict, out)
	}
	r := duJSON(t, root)
	if len(r.BuildCache) == 0 {
		t.Fatal("the BuildKit build left no build cache")
	}
	for _, d := range r.BuildCache {
		if a := ask(d.Path); a.Owner.Kind != whose.OwnerBuildCache || a.Verdict.Safe != "no" {
			t.Errorf("build cache %s: %+v", d.Path, a.Owner)
		}
	}
	if out, errOut, code := runCLI("--root", root, "whose", "/etc/passwd"); code != 2 || !strings.Contains(errOut, "not under the data root") {
		t.Errorf("outside the root: exit %d %s %s", code, out, errOut)
	}

	// Offline, on a cp -a copy: the same answers.
	live := ask(filepath.Join(root, "overlay2", layer2, "diff", "data", "a"))
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", root, cp).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	cpOut, errOut, code := runCLI("--root", cp, "--mountinfo", "none", "--daemon", "off", "--format", "json", "whose", filepath.Join("overlay2", layer2, "diff", "data", "a"))
	var copied whose.Answer
	if code != 0 || json.Unmarshal([]byte(cpOut), &copied) != nil {
		t.Fatalf("copy: exit %d %s", code, errOut)
	}
	if len(copied.Views) != len(live.Views) {
		t.Fatalf("copy: %d views, live %d", len(copied.Views), len(live.Views))
	}
	for i, v := range copied.Views {
		if w := live.Views[i]; v.Name != w.Name || v.Result != w.Result || whoseBy(v.By) != whoseBy(w.By) {
			t.Errorf("copy: view %s %s %s, live %s %s %s", v.Name, v.Result, whoseBy(v.By), w.Name, w.Result, whoseBy(w.By))
		}
	}
}

// whoseBy is "rw", "init" or "image N", then the path and entry.
func whoseBy(h *whose.Hit) string {
	if h == nil {
		return "-"
	}
	who := string(h.Role)
	if h.Role == "image" {
		who = "image " + strconv.Itoa(h.Position)
	}
	return who + " " + h.Path + " " + h.Entry
}
