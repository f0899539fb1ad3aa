package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
)

// ctrdChanges is what the running container does to its lower layers:
// an append, a deleted file and dir, a recreated dir, a chmod, a FIFO, a
// symlink and a 300 KiB file.
const ctrdChanges = "echo more >> /data/a && rm /data/gone && rm -r /data/dir && " +
	"rm -r /data/redo && mkdir /data/redo && chmod 600 /data/keep && mkfifo /data/fifo && " +
	"ln -s a /data/link && dd if=/dev/zero of=/data/big bs=1024 count=300 2>/dev/null"

// ctrdContainer is one container of the scenario and what explain must
// say of it.
type ctrdContainer struct {
	name, id string
	running  bool
	// origins: path -> the instruction of the layer its lower copy comes from.
	origins map[string]string
}

// TestContainerdStoreE2E: Docker 29's containerd image store on the
// overlayfs snapshotter. An image built with the classic builder and one
// built on it with BuildKit (sharing its layers); a running container
// that changes lower files, a stopped one and a created one. For each,
// live, with both daemons stopped, and on a cp -a copy of both roots
// (the containerd root derived from the copy): dlayer diff equals the
// engine's /containers/<id>/changes, explain's origins name the
// instruction, the running container's upper dir and lowers are its live
// rootfs mount's, and whose on every snapshot dir of its stack names the
// owner the snapshot chain says.
func TestContainerdStoreE2E(t *testing.T) {
	e := engine.ForTestWith(t, "", engine.Options{Kind: engine.Docker29})
	if _, err := e.ImportBusybox("c8d-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("c8d-app:1", "FROM c8d-base:1\n"+
		"RUN mkdir -p /data/dir/sub /data/redo && echo hi > /data/a && echo sub > /data/dir/sub/f && "+
		"echo keep > /data/keep && echo gone > /data/gone && echo r > /data/redo/r\n"+
		"COPY note.txt /data/note.txt\n", map[string]string{"note.txt": "from the context\n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.BuildKit("c8d-bk:1", "FROM c8d-app:1\nRUN echo bk > /data/bk\n", nil); err != nil {
		t.Fatal(err)
	}
	d := func(args ...string) string {
		t.Helper()
		out, err := e.Docker(args...)
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(out)
	}
	d("create", "--network", "none", "--name", "c8d-created", "c8d-app:1", "true")
	d("run", "-d", "--network", "none", "--name", "c8d-run", "c8d-app:1", "sleep", "600")
	d("exec", "c8d-run", "sh", "-c", ctrdChanges)
	d("run", "--network", "none", "--name", "c8d-stopped", "c8d-bk:1", "sh", "-c", "echo x >> /data/bk && echo y >> /data/note.txt && rm /data/keep")
	run := "mkdir -p /data/dir/sub" // the history entry: "/bin/sh -c mkdir …"
	cs := []ctrdContainer{
		{name: "c8d-run", running: true, origins: map[string]string{"/data/a": run, "/data/keep": run, "/data/gone": run, "/data/redo": run}},
		{name: "c8d-stopped", origins: map[string]string{"/data/bk": "echo bk > /data/bk", "/data/note.txt": "COPY", "/data/keep": run}},
		{name: "c8d-created"},
	}
	want := map[string][]string{}
	for i, c := range cs {
		j, err := e.InspectContainer(c.name)
		if err != nil {
			t.Fatal(err)
		}
		cs[i].id = j.ID
		ch, err := e.Changes(c.name)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ch {
			want[c.name] = append(want[c.name], x.String())
		}
		slices.Sort(want[c.name])
		t.Logf("%s: docker diff (API) %q", c.name, want[c.name])
	}
	if len(want["c8d-run"]) != 10 || len(want["c8d-stopped"]) != 4 || len(want["c8d-created"]) != 0 {
		t.Fatalf("the engine's changes are not the scenario's: %q", want)
	}
	var eng ctrdEngine
	if err := e.API("GET", "/images/json", nil, &eng.images); err != nil {
		t.Fatal(err)
	}
	if err := e.API("GET", "/containers/json?all=1", nil, &eng.containers); err != nil {
		t.Fatal(err)
	}
	if err := e.API("GET", "/images/c8d-bk:1/json", nil, &eng.bk); err != nil {
		t.Fatal(err)
	}
	root, ctrRoot := e.Root(), e.ContainerdRoot()
	if filepath.Join(filepath.Dir(root), "containerd") != ctrRoot {
		t.Fatalf("engine layout: containerd root %s is not beside %s", ctrRoot, root)
	}

	t.Run("live", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", e.Host()) // --daemon auto cross-checks with the engine
		checkCtrd(t, root, "auto", true, cs, want, eng)
	})
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := range cs {
		cs[i].running = false
	}
	t.Run("daemons stopped", func(t *testing.T) { checkCtrd(t, root, "off", false, cs, want, eng) })
	t.Run("copy", func(t *testing.T) {
		dir := t.TempDir()
		for _, src := range []string{root, ctrRoot} {
			if out, err := exec.Command("cp", "-a", src, filepath.Join(dir, filepath.Base(src))).CombinedOutput(); err != nil {
				t.Fatalf("cp -a: %v\n%s", err, out)
			}
		}
		cp := filepath.Join(dir, filepath.Base(root))
		checkCtrd(t, cp, "off", false, cs, want, eng)
		x := explainJSON(t, cp, "off", "c8d-run")
		if !strings.HasPrefix(x.RWLayer.UpperDir, filepath.Join(dir, "containerd")+"/") {
			t.Errorf("copy: upper dir %s is not under the copy's containerd root", x.RWLayer.UpperDir)
		}
	})
}

// ctrdEngine is what the engine's API said of the scenario.
type ctrdEngine struct {
	images []struct {
		ID       string `json:"Id"`
		RepoTags []string
	}
	containers []struct {
		ID    string `json:"Id"`
		Names []string
		State string
	}
	bk struct {
		ID     string `json:"Id"`
		RootFS struct{ Layers []string }
	}
}

func checkCtrd(t *testing.T, root, daemon string, live bool, cs []ctrdContainer, want map[string][]string, eng ctrdEngine) {
	t.Helper()
	mi := "none"
	if live {
		mi = "auto"
	}
	cli := func(args ...string) []byte {
		t.Helper()
		out, errOut, code := runCLI(append([]string{"--root", root, "--daemon", daemon, "--mountinfo", mi, "--format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("dlayer %v: exit %d: %s", args, code, errOut)
		}
		return []byte(out)
	}
	// ps: every container, with the engine's state.
	var psDoc struct {
		Containers []struct {
			ID, Name string
			State    struct{ Status string }
		}
	}
	if err := json.Unmarshal(cli("ps"), &psDoc); err != nil {
		t.Fatal(err)
	}
	ps := psDoc.Containers
	for _, c := range eng.containers {
		i := slices.IndexFunc(ps, func(p struct {
			ID, Name string
			State    struct{ Status string }
		}) bool {
			return p.ID == c.ID
		})
		st := c.State
		if !live && st == "running" {
			st = "" // stopped with the engine: whatever the store says last
		}
		if i < 0 || "/"+ps[i].Name != c.Names[0] || st != "" && ps[i].State.Status != st {
			t.Errorf("ps: engine %+v, dlayer %+v", c, ps)
		}
	}
	// images: the engine's tagged images with their IDs (manifest digests).
	var imgsDoc struct {
		Images []struct {
			ID       string
			Tags     []string
			Dangling bool
		}
	}
	if err := json.Unmarshal(cli("images"), &imgsDoc); err != nil {
		t.Fatal(err)
	}
	imgs := imgsDoc.Images
	// The classic build's intermediate (moby-dangling@<digest> in meta.db)
	// is untagged; with a child it is an intermediate, not dangling.
	untagged := 0
	for _, im := range imgs {
		if len(im.Tags) == 0 {
			untagged++
		}
	}
	if untagged != 1 || len(imgs) != 4 {
		t.Errorf("images: want the 3 tagged images and the classic build's untagged intermediate: %+v", imgs)
	}
	for _, ei := range eng.images {
		i := slices.IndexFunc(imgs, func(x struct {
			ID       string
			Tags     []string
			Dangling bool
		}) bool {
			return x.ID == ei.ID
		})
		if i < 0 || !slices.Equal(sorted(imgs[i].Tags), sorted(ei.RepoTags)) {
			t.Errorf("images: engine %+v, dlayer %+v", ei, imgs)
		}
	}
	// whose on the BuildKit image's manifest blob: the image owns it.
	var blob struct {
		Kind  string
		Owner struct{ Kind, ID string }
	}
	ctrRoot := filepath.Join(filepath.Dir(root), "containerd")
	bp := filepath.Join(ctrRoot, "io.containerd.content.v1.content", "blobs", "sha256", strings.TrimPrefix(eng.bk.ID, "sha256:"))
	if err := json.Unmarshal(cli("whose", bp), &blob); err != nil {
		t.Fatal(err)
	}
	if blob.Kind != "content_blob" || blob.Owner.Kind != "image" || blob.Owner.ID != eng.bk.ID {
		t.Errorf("whose %s: %+v, want the content blob of image %s", bp, blob, eng.bk.ID)
	}
	// whose on every snapshot dir: the engine leaves no orphan, so none
	// is called one or safe to delete (BuildKit's are build cache).
	snaps := filepath.Join(ctrRoot, "io.containerd.snapshotter.v1.overlayfs", "snapshots")
	ents, err := os.ReadDir(snaps)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		var a struct {
			Owner   struct{ Kind, Why string }
			Verdict struct{ Safe string }
		}
		p := filepath.Join(snaps, ent.Name())
		out, errOut, code := runCLI("--root", root, "--daemon", daemon, "--mountinfo", mi, "--format", "json", "whose", p)
		if _, err := os.Lstat(p); code != 0 && live && os.IsNotExist(err) {
			continue // the live engine removed it meanwhile (a view, a build step's)
		}
		if code != 0 {
			t.Errorf("whose %s: exit %d: %s", p, code, errOut)
			continue
		}
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatal(err)
		}
		if a.Owner.Kind == "orphan" || a.Owner.Kind == "unknown" || a.Verdict.Safe == "yes" {
			t.Errorf("whose snapshots/%s: %+v", ent.Name(), a)
		}
	}
	// layers: the BuildKit image's diff IDs, each with its snapshot dir.
	var lay struct {
		Layers []struct {
			DiffID    string `json:"diff_id"`
			DiffDir   string `json:"diff_dir"`
			CreatedBy string `json:"created_by"`
		}
	}
	if err := json.Unmarshal(cli("layers", "c8d-bk:1"), &lay); err != nil {
		t.Fatal(err)
	}
	var diffs []string
	for _, l := range lay.Layers {
		diffs = append(diffs, l.DiffID)
		if _, err := os.Lstat(l.DiffDir); err != nil {
			t.Errorf("layers: %v", err)
		}
	}
	if !slices.Equal(diffs, eng.bk.RootFS.Layers) || !strings.Contains(lay.Layers[len(lay.Layers)-1].CreatedBy, "echo bk") {
		t.Errorf("layers c8d-bk:1: %+v, engine RootFS.Layers %q", lay.Layers, eng.bk.RootFS.Layers)
	}
	for _, c := range cs {
		out, errOut, code := runCLI("--root", root, "--daemon", daemon, "--mountinfo", mi, "diff", c.name)
		if code != 0 {
			t.Errorf("%s: dlayer diff exit %d: %s", c.name, code, errOut)
			continue
		}
		if got := normalize(out); strings.Join(got, "\n") != strings.Join(want[c.name], "\n") {
			t.Errorf("%s: dlayer diff differs from docker diff\n got: %q\nwant: %q", c.name, got, want[c.name])
		}
		out, errOut, code = runCLI("--root", root, "--daemon", daemon, "--mountinfo", mi, "--format", "json", "explain", c.name)
		if code != 0 {
			t.Errorf("%s: explain exit %d: %s", c.name, code, errOut)
			continue
		}
		var x inspect.Explanation
		if err := json.Unmarshal([]byte(out), &x); err != nil {
			t.Fatalf("%s: explain json: %v", c.name, err)
		}
		for p, instr := range c.origins {
			ch := findChange(&x, p)
			if ch == nil || ch.Origin == nil || !strings.Contains(ch.Origin.CreatedBy, instr) {
				t.Errorf("%s: %s: want an origin naming %q: %+v", c.name, p, instr, ch)
			}
		}
		for _, f := range x.Findings {
			t.Errorf("%s: unexpected finding %+v", c.name, f)
		}
		if c.running {
			m := x.RWLayer.Mount
			if x.RWLayer.Mounted == nil || !*x.RWLayer.Mounted || m == nil {
				t.Errorf("%s: running, but explain says mounted %v", c.name, x.RWLayer.Mounted)
			} else if m.UpperDir != x.RWLayer.UpperDir || strings.Join(m.LowerDirs, ":") != strings.Join(x.RWLayer.LowerDirs, ":") ||
				m.MountPoint != x.RWLayer.MergedDir {
				t.Errorf("%s: live mount %+v, explain's rw layer %+v", c.name, m, x.RWLayer)
			}
		}
		// whose on every snapshot dir of the stack names its owner.
		for _, l := range x.Layers {
			dir := filepath.Dir(l.Dir)
			out, errOut, code := runCLI("--root", root, "--daemon", daemon, "--mountinfo", mi, "--format", "json", "whose", dir)
			if code != 0 {
				t.Errorf("%s: whose %s exit %d: %s", c.name, dir, code, errOut)
				continue
			}
			var a struct {
				Owner struct {
					Kind      string
					Container *struct{ ID string }
					Layer     *struct {
						Containers []struct{ ID string }
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &a); err != nil {
				t.Fatalf("whose json: %v", err)
			}
			switch l.Role {
			case inspect.RoleRW, inspect.RoleInit:
				if a.Owner.Kind != string(l.Role)+"_layer" || a.Owner.Container == nil || a.Owner.Container.ID != c.id {
					t.Errorf("%s: whose %s (%s): owner %+v", c.name, dir, l.Role, a.Owner)
				}
			case inspect.RoleImage:
				ok := a.Owner.Kind == "image_layer" && a.Owner.Layer != nil
				if ok {
					ok = slices.ContainsFunc(a.Owner.Layer.Containers, func(u struct{ ID string }) bool { return u.ID == c.id })
				}
				if !ok {
					t.Errorf("%s: whose %s (image layer %d): owner %+v", c.name, dir, l.Position, a.Owner)
				}
			case inspect.RoleUnowned:
				if a.Owner.Kind != "unowned_lower" {
					t.Errorf("%s: whose %s (a build container's init): owner %+v", c.name, dir, a.Owner)
				}
			}
		}
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
