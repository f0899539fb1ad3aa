package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/whose"
	"github.com/dlayer/dlayer/report"
	"github.com/opencontainers/go-digest"
)

// The legacy overlay scenario's image: layer 4 deletes a file and a dir
// of layer 2 and hardlinks one of its files; layer 5 adds a symlink.
const ovDockerfile = `FROM ov-base:1
RUN mkdir -p /data/sub /data/gone/deep && echo hello > /data/a && echo b > /data/sub/b && echo keep > /data/k && echo x > /data/gone/deep/f && echo del > /data/del && echo h > /data/h
COPY f.txt /data/f.txt
RUN rm -rf /data/gone /data/del && ln /data/h /data/h2 && chmod 600 /data/k
ENV X=1
RUN echo four > /data/layer4 && ln -s a /data/alink
CMD ["sleep", "3600"]
`

// ovContainers: one stopped (appends, deletes, re-creates, chmods, adds
// files, a FIFO and a symlink), one created, one running.
var ovContainers = []e2eContainer{
	{name: "ov-stopped", run: strings.Join([]string{
		"echo x >> /data/a", "rm /data/f.txt", "rm -rf /data/sub", "mkdir /data/sub", "echo n > /data/sub/n",
		"rm /data/k", "echo k2 > /data/k", "chmod 700 /data/layer4", "touch /new", "mkfifo /fifo", "ln -s /new /sym",
		"rm /bin/ls", "ln /data/h2 /data/h3", "rm /data/alink", "mkdir -p /added/x && echo z > /added/x/z",
	}, "; "),
		origins: map[string]string{"/data/a": "echo hello > /data/a", "/data/f.txt": "COPY", "/data/k": "chmod 600",
			"/data/layer4": "echo four", "/bin/ls": "Imported", "/data/h2": "ln /data/h /data/h2", "/data/alink": "ln -s a /data/alink"},
		kinds: map[string]inspect.ChangeKind{"/data/a": inspect.KindModified, "/data/f.txt": inspect.KindWhiteout, "/data/sub": inspect.KindOpaque,
			"/data/sub/n": inspect.KindAdded, "/data/k": inspect.KindModified, "/data/layer4": inspect.KindModified,
			"/new": inspect.KindAdded, "/fifo": inspect.KindAdded, "/sym": inspect.KindAdded, "/bin/ls": inspect.KindWhiteout,
			"/data/h2": inspect.KindCopiedUp, "/data/h3": inspect.KindAdded, "/data/alink": inspect.KindWhiteout,
			"/added/x/z": inspect.KindAdded, "/.dockerenv": inspect.KindCopiedUp, "/etc/hosts": inspect.KindCopiedUp}},
	{name: "ov-created", kinds: map[string]inspect.ChangeKind{"/.dockerenv": inspect.KindCopiedUp, "/etc/mtab": inspect.KindCopiedUp}},
	{name: "ov-running", run: "sleep 3600", detach: true, exec: "echo r >> /data/layer4; rm /data/a",
		origins: map[string]string{"/data/layer4": "echo four", "/data/a": "echo hello"}},
}

// TestOverlayE2E runs the legacy overlay driver (Docker <= 23; Debian's
// 20.10 engine, --storage-driver=overlay) and checks dlayer against the
// engine: diff equals the changes API for every container; explain's
// dirs equal docker inspect's, its origins name the instruction that
// made the lower entry, its kinds are overlayfs's, a running container's
// live mount (one lowerdir) matches the store; images and layers equal
// docker images, /system/df, docker history and docker image inspect;
// whose names the owners of layer dirs and what each container sees; du
// equals /system/df and du -sxB1; verify is clean; mounts maps the
// running container's mount. The same with the daemon stopped and on a
// cp -a copy, where a changed byte of a layer's root/ is then caught.
func TestOverlayE2E(t *testing.T) {
	e := engine.ForTestWith(t, "", engine.Options{StorageDriver: "overlay"})
	if _, err := e.ImportBusybox("ov-base:1"); err != nil {
		t.Fatal(err)
	}
	imageID, err := e.Build("ov:1", ovDockerfile, map[string]string{"f.txt": "file\n"})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"first", "second"} { // leaves the first untagged: dangling
		if _, err := e.Build("ov-dangle:1", "FROM ov-base:1\nRUN echo "+v+" > /v\n", nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range ovContainers {
		args := []string{"run", "--network", "none", "--name", c.name, "ov:1", "sh", "-c", c.run}
		switch {
		case c.run == "":
			args = []string{"create", "--network", "none", "--name", c.name, "ov:1"}
		case c.detach:
			args = []string{"run", "-d", "--network", "none", "--name", c.name, "ov:1", "sh", "-c", c.run}
		}
		mustDocker(t, e, args...)
		if c.exec != "" {
			mustDocker(t, e, "exec", c.name, "sh", "-c", c.exec)
		}
	}
	eng := ovEngineAnswers(t, e, imageID)
	if len(eng.want["ov-stopped"]) < 15 || len(eng.want["ov-created"]) != 0 || len(eng.want["ov-running"]) < 3 {
		t.Fatalf("the engine did not make the changes the scenario needs: %q", eng.want)
	}
	t.Logf("docker diff ov-stopped: %q", eng.want["ov-stopped"])
	root := e.Root()

	t.Run("live", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", e.Host())
		ovCheckAll(t, ovView{root: root, origRoot: root, daemon: "auto", live: true}, eng)
	})
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Run("daemon stopped", func(t *testing.T) {
		ovCheckAll(t, ovView{root: root, origRoot: root, daemon: "off"}, eng)
	})
	t.Run("copy", func(t *testing.T) {
		cp := filepath.Join(t.TempDir(), "copy")
		if out, err := exec.Command("cp", "-a", root, cp).CombinedOutput(); err != nil {
			t.Fatalf("cp -a: %v\n%s", err, out)
		}
		ovCheckAll(t, ovView{root: cp, origRoot: root, daemon: "off"}, eng)
		ovCheckTamper(t, cp, eng)
	})
}

func ovCheckAll(t *testing.T, v ovView, eng *ovEngine) {
	t.Run("diff and explain", func(t *testing.T) { ovCheckContainers(t, v, eng) })
	t.Run("images", func(t *testing.T) { ovCheckImages(t, v.root, eng) })
	t.Run("layers", func(t *testing.T) { ovCheckLayers(t, v, eng) })
	t.Run("whose", func(t *testing.T) { ovCheckWhose(t, v, eng) })
	t.Run("du", func(t *testing.T) { ovCheckDU(t, v.root, eng) })
	t.Run("verify", func(t *testing.T) { wantClean(t, v.root) })
	t.Run("mounts", func(t *testing.T) { ovCheckMounts(t, v, eng) })
}

// ovCheckContainers: dlayer diff equals the changes API; explain's dirs,
// lower dirs, origins and kinds are the driver's and the engine's; the
// running container's live mount, with its one lowerdir, matches the
// store (and the daemon, when it runs), so explain has no finding.
func ovCheckContainers(t *testing.T, v ovView, eng *ovEngine) {
	t.Helper()
	re, img := v.re, eng.img
	for _, c := range ovContainers {
		out, errOut, code := runCLI("--root", v.root, "--daemon", v.daemon, "diff", c.name)
		if got := normalize(out); code != 0 || errOut != "" || strings.Join(got, "\n") != strings.Join(eng.want[c.name], "\n") {
			t.Errorf("%s: dlayer diff (exit %d %s) differs from the changes API\n got: %q\nwant: %q", c.name, code, errOut, got, eng.want[c.name])
		}
		out, errOut, code = runCLI("--root", v.root, "--daemon", v.daemon, "--format", "json", "explain", c.name)
		var x inspect.Explanation
		if code != 0 || json.Unmarshal([]byte(out), &x) != nil {
			t.Errorf("%s: explain: exit %d: %s", c.name, code, errOut)
			continue
		}
		g := eng.graph[c.name]
		up := re(g["UpperDir"])
		if x.RWLayer.UpperDir != up || x.RWLayer.WorkDir != re(g["WorkDir"]) || x.RWLayer.MergedDir != re(g["MergedDir"]) ||
			x.RWLayer.ParentsFile != filepath.Join(filepath.Dir(up), "lower-id") {
			t.Errorf("%s: rw layer dirs %+v, docker inspect GraphDriver.Data %v", c.name, x.RWLayer, g)
		}
		if m := x.RWLayer.Mounted; v.live && (m == nil || *m != c.detach) {
			t.Errorf("%s: mounted %v, want %v", c.name, m, c.detach)
		}
		// The union dlayer reads: the init layer's upper dir, then every
		// image layer's root/ from the one the mount uses (LowerDir) down.
		lowers := x.RWLayer.LowerDirs
		if len(lowers) != 1+len(img.RootFS.Layers) || lowers[0] != filepath.Dir(up)+"-init/upper" || lowers[1] != re(g["LowerDir"]) ||
			len(x.Layers) != len(lowers)+1 || x.Layers[1].Role != "init" || x.Layers[1].Dir != lowers[0] {
			t.Errorf("%s: lower dirs %q (stack %d), docker inspect LowerDir %s", c.name, lowers, len(x.Layers), g["LowerDir"])
		}
		for i, l := range x.Layers[2:] {
			if l.Role != "image" || l.DiffID != img.RootFS.Layers[len(img.RootFS.Layers)-1-i] || l.Dir != lowers[i+1] || filepath.Base(l.Dir) != "root" {
				t.Errorf("%s: stack layer %d: %+v", c.name, i+2, l)
			}
		}
		var diff []string
		for _, d := range x.Diff {
			diff = append(diff, d.Kind+" "+report.Escape(d.Path))
		}
		sort.Strings(diff)
		if strings.Join(diff, "\n") != strings.Join(eng.want[c.name], "\n") {
			t.Errorf("%s: explain's docker diff %q, the changes API %q", c.name, diff, eng.want[c.name])
		}
		// The rw layer's size is Docker's SizeRw: on this driver, the size
		// of what docker diff lists (ChangesSize), not of the upper dir.
		for _, dc := range eng.df.Containers {
			if strings.TrimPrefix(dc.Names[0], "/") == c.name && x.Layers[0].Size != dc.SizeRw {
				t.Errorf("%s: rw layer size %d, /system/df SizeRw %d", c.name, x.Layers[0].Size, dc.SizeRw)
			}
		}
		for p, instr := range c.origins {
			ch := findChange(&x, p)
			if ch == nil || ch.Origin == nil || !strings.Contains(ch.Origin.CreatedBy, instr) {
				t.Errorf("%s: %s: %+v, want an origin in the layer of %q", c.name, p, ch, instr)
			}
		}
		for p, kind := range c.kinds {
			if ch := findChange(&x, p); ch == nil || ch.Kind != kind {
				t.Errorf("%s: %s: got %+v, want kind %s", c.name, p, ch, kind)
			}
		}
		if ch := findChange(&x, "/.dockerenv"); ch == nil || ch.Origin == nil || ch.Origin.Layer != "init" || ch.DockerDiff != "" {
			t.Errorf("%s: /.dockerenv, copied from the init layer's upper dir: %+v", c.name, ch)
		}
		if c.name == "ov-stopped" {
			if ch := findChange(&x, "/data/sub"); ch == nil || strings.Join(ch.Hides, ",") != "/data/sub/b" {
				t.Errorf("ov-stopped: opaque /data/sub must hide /data/sub/b: %+v", ch)
			}
			if ch := findChange(&x, "/data/h2"); ch == nil || ch.DockerDiff != "" {
				t.Errorf("ov-stopped: /data/h2, copied up by link(2): %+v", ch)
			}
		}
		for _, f := range x.Findings {
			t.Errorf("%s: unexpected finding %+v", c.name, f)
		}
	}
}

// ovCheckImages: dlayer images equals docker images (-a, and its dangling
// filter), /system/df and the containers' images.
func ovCheckImages(t *testing.T, root string, eng *ovEngine) {
	out, errOut, code := runCLI("--root", root, "--format", "json", "images")
	var doc report.ImagesDocument
	if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("dlayer images: exit %d\n%s\n%s", code, errOut, out)
	}
	rows := doc.Images
	checkImageList(t, rows, eng.all, eng.top, eng.dangling)
	checkImageDF(t, rows, eng.df)
	checkImageContainers(t, rows, eng.ctrs)
}

// ovCheckLayers: dlayer layers ov:1 equals docker history and docker
// image inspect (RootFS.Layers; GraphDriver.Data.RootDir is the top
// layer's root/).
func ovCheckLayers(t *testing.T, v ovView, eng *ovEngine) {
	out, errOut, code := runCLI("--root", v.root, "--format", "json", "layers", "ov:1")
	var doc report.LayersDoc
	if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("dlayer layers: exit %d\n%s\n%s", code, errOut, out)
	}
	id, hist, img := eng.imageID, eng.hist, eng.img
	if string(doc.Image.ID) != id || len(doc.History) != len(hist) {
		t.Fatalf("dlayer layers: image %s, %d history entries; docker %s, %d", doc.Image.ID, len(doc.History), id, len(hist))
	}
	for i, h := range hist {
		if got := doc.History[i]; got.CreatedBy != h.CreatedBy || got.Comment != h.Comment {
			t.Errorf("history %d: dlayer %q %q; docker history %q %q", i, got.CreatedBy, got.Comment, h.CreatedBy, h.Comment)
		}
	}
	var diffs []digest.Digest
	for _, l := range doc.Layers {
		diffs = append(diffs, l.DiffID)
		if len(l.Problems) != 0 || l.Link != "" || filepath.Base(l.Dir) != l.CacheID || l.DiffDir != filepath.Join(l.Dir, "root") {
			t.Errorf("layer %d: %+v", l.Position, l)
		}
	}
	top := doc.Layers[len(doc.Layers)-1]
	if strings.Join(digestStrings(diffs), ",") != strings.Join(digestStrings(img.RootFS.Layers), ",") ||
		img.GraphDriver.Name != "overlay" || v.re(img.GraphDriver.Data["RootDir"]) != top.DiffDir {
		t.Errorf("diff IDs %v, top dir %s; docker image inspect %v, %s %v", diffs, top.DiffDir, img.RootFS.Layers, img.GraphDriver.Name, img.GraphDriver.Data)
	}
}

func digestStrings(ds []digest.Digest) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d)
	}
	return out
}

// ovCheckWhose: whose names the owner of every dir docker inspect shows
// and says what each container sees at a path of an image layer's root/.
func ovCheckWhose(t *testing.T, v ovView, eng *ovEngine) {
	graph, ids, img := eng.graph, eng.ids, eng.img
	ask := func(arg string) *whose.Answer {
		t.Helper()
		out, errOut, code := runCLI("--root", v.root, "--daemon", v.daemon, "--format", "json", "whose", v.re(arg))
		var a whose.Answer
		if code != 0 || json.Unmarshal([]byte(out), &a) != nil {
			t.Fatalf("whose %s: exit %d: %s", arg, code, errOut)
		}
		return &a
	}
	n := len(img.RootFS.Layers)
	topRoot := img.GraphDriver.Data["RootDir"]
	a := ask(filepath.Dir(topRoot))
	if a.Kind != whose.PathLayerDir || a.Driver != "overlay" || a.Owner.Kind != whose.OwnerImageLayer ||
		string(a.Owner.Layer.DiffID) != string(img.RootFS.Layers[n-1]) || len(a.Owner.Layer.Containers) != len(ovContainers) || a.Verdict.Safe != "no" {
		t.Errorf("whose the top layer dir: %s %s %+v %+v", a.Kind, a.Driver, a.Owner.Layer, a.Verdict)
	}
	if a := ask(topRoot); a.Kind != whose.PathLayerContent || a.Owner.Kind != whose.OwnerImageLayer {
		t.Errorf("whose the top layer's root/: %s %+v", a.Kind, a.Owner)
	}
	// /data/f.txt of the top root/ is a hardlink of layer 3's (COPY): the
	// top layer does not own it; the stopped container deleted it.
	a = ask(filepath.Join(topRoot, "data", "f.txt"))
	if a.Entry == nil || a.Entry.Exists || !a.Exists {
		t.Errorf("whose f.txt in the top root/: exists %v, entry %+v", a.Exists, a.Entry)
	}
	seen := map[string]string{}
	for _, v := range a.Views {
		by := ""
		if v.By != nil {
			by = v.By.Role.String() + " " + v.By.CreatedBy
		}
		seen[v.Name] = v.Result.String() + ": " + by
	}
	for name, w := range map[string]string{"ov-stopped": whose.ViewAbsent.String() + ": rw", "ov-created": whose.ViewFrom.String() + ": image /bin/sh -c #(nop) COPY",
		"ov-running": whose.ViewFrom.String() + ": image /bin/sh -c #(nop) COPY", "ov:1": whose.ViewFrom.String() + ": image /bin/sh -c #(nop) COPY"} {
		if !strings.HasPrefix(seen[name], w) {
			t.Errorf("whose f.txt: %s sees %q, want %q…", name, seen[name], w)
		}
	}
	for name, g := range graph {
		up := g["UpperDir"]
		for dir, kind := range map[string]whose.OwnerKind{filepath.Dir(up): whose.OwnerRWLayer, up: whose.OwnerRWLayer, g["WorkDir"]: whose.OwnerRWLayer,
			filepath.Dir(up) + "-init/upper": whose.OwnerInitLayer} {
			if a := ask(dir); a.Owner.Kind != kind || a.Owner.Container == nil || a.Owner.Container.ID != ids[name] {
				t.Errorf("whose %s (%s): %s %+v", dir, name, a.Owner.Kind, a.Owner.Container)
			}
		}
		if a := ask(filepath.Join(up, "etc", "hosts")); a.Entry == nil || !a.Entry.Exists || len(a.Views) != 1 || a.Views[0].Result != whose.ViewVisible {
			t.Errorf("whose %s's /etc/hosts (a copy of the init layer's): %+v %+v", name, a.Entry, a.Views)
		}
	}
}
