package e2e

import (
	"github.com/dlayer/dlayer/fixtures/clitest"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/report"
)

// The e2e image: several RUN and COPY layers, so each copy-up has an origin
// whose instruction is known.
const e2eDockerfile = `FROM e2e-base:1
RUN mkdir -p /data/sub /data/gone/deep /data/tofile && echo hello > /data/a && echo b > /data/sub/b && echo keep > /data/k && echo x > /data/gone/deep/f && echo t > /data/todir && echo y > /data/tofile/y && echo h > /data/h
ENV X=1
COPY f.txt /data/f.txt
RUN chmod 600 /data/k && echo four > /data/layer4
CMD ["sleep", "3600"]
`

// e2eContainer is one container of the scenario and what it does.
type e2eContainer struct {
	name string
	// run: the shell script given to `docker run`; empty: docker create only.
	run string
	// detach keeps the container running; exec then runs in it.
	detach bool
	exec   string
	// origins: path → a substring of the instruction that made the lower entry.
	origins map[string]string
	// kinds: path → the kind explain must give it.
	kinds map[string]inspect.ChangeKind
}

var e2eContainers = []e2eContainer{
	{name: "append", run: "echo x >> /data/a",
		origins: map[string]string{"/data/a": "echo hello > /data/a"}},
	{name: "mixed", run: strings.Join([]string{
		"rm /bin/ls", "rm -rf /data/sub", "mkdir /data/sub", "echo n > /data/sub/n", "echo b2 > /data/sub/b",
		"chmod 700 /data/f.txt", "touch /new", "exec 3>>/data/k", "rm -rf /data/gone",
		"rm /data/todir", "mkdir /data/todir", "touch /data/todir/z",
		"rm -rf /data/tofile", "echo f > /data/tofile",
		"ln /data/h /data/h2", "mkfifo /fifo", "ln -s ../../etc/passwd /sym",
		`touch "/data/$(printf 'new\nline')"`, `touch "/data/$(printf 'bad\377name')"`,
		"mkdir -p /added/x/y && echo z > /added/x/y/z",
	}, "; "),
		origins: map[string]string{"/data/f.txt": "COPY", "/data/k": "chmod 600", "/bin/ls": "Imported", "/data/sub": "mkdir -p /data/sub", "/data/todir": "echo t > /data/todir"},
		kinds: map[string]inspect.ChangeKind{"/data/k": inspect.KindCopiedUp, "/data/h": inspect.KindCopiedUp, "/data/f.txt": inspect.KindModified,
			"/bin/ls": inspect.KindWhiteout, "/data/gone": inspect.KindWhiteout, "/data/sub": inspect.KindOpaque, "/data/sub/b": inspect.KindAdded,
			"/new": inspect.KindAdded, "/data/todir": inspect.KindModified, "/data/tofile": inspect.KindModified, "/fifo": inspect.KindAdded}},
	{name: "stopped", run: "echo s > /s.txt; chmod 4755 /bin/busybox",
		kinds: map[string]inspect.ChangeKind{"/bin/busybox": inspect.KindModified, "/bin": inspect.KindCopiedUp, "/s.txt": inspect.KindAdded}},
	{name: "created"},
	{name: "running", run: "sleep 3600", detach: true, exec: "echo r >> /data/layer4; rm /data/a",
		origins: map[string]string{"/data/layer4": "echo four", "/data/a": "echo hello"}},
}

func TestE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	want, graph := e2eScenario(t, e)
	root := e.Root()

	t.Run("live", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", e.Host())
		checkAll(t, e2eView{root: root, origRoot: root, daemon: "auto"}, want, graph)
		x := explainJSON(t, root, "auto", "running")
		if x.RWLayer.Mounted == nil || !*x.RWLayer.Mounted {
			t.Errorf("running container: mounted = %v, want true (mountinfo shows its overlay)", x.RWLayer.Mounted)
		}
		for _, f := range x.Findings {
			t.Errorf("running container: unexpected finding %+v", f)
		}
	})
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Run("daemon stopped", func(t *testing.T) {
		checkAll(t, e2eView{root: root, origRoot: root, daemon: "off"}, want, graph)
	})
	t.Run("copy", func(t *testing.T) {
		cp := filepath.Join(t.TempDir(), "copy")
		if out, err := exec.Command("cp", "-a", root, cp).CombinedOutput(); err != nil {
			t.Fatalf("cp -a: %v\n%s", err, out)
		}
		checkAll(t, e2eView{root: cp, origRoot: root, daemon: "off"}, want, graph)
	})
}

// e2eScenario builds the e2e image and runs the scenario's containers; it
// returns docker diff of each (sorted) and its docker inspect
// GraphDriver.Data.
func e2eScenario(t *testing.T, e *engine.Engine) (want map[string][]string, graph map[string]map[string]string) {
	t.Helper()
	if _, err := e.ImportBusybox("e2e-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("e2e:1", e2eDockerfile, map[string]string{"f.txt": "file\n"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range e2eContainers {
		args := []string{"run", "--network", "none", "--name", c.name}
		switch {
		case c.run == "":
			args = []string{"create", "--network", "none", "--name", c.name, "e2e:1"}
		case c.detach:
			args = append(args, "-d", "e2e:1", "sh", "-c", c.run)
		default:
			args = append(args, "e2e:1", "sh", "-c", c.run)
		}
		if out, err := e.Docker(args...); err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		if c.exec != "" {
			if out, err := e.Docker("exec", c.name, "sh", "-c", c.exec); err != nil {
				t.Fatalf("%s exec: %v\n%s", c.name, err, out)
			}
		}
	}
	// Docker's own answers, while the daemon runs.
	want = map[string][]string{}
	graph = map[string]map[string]string{}
	for _, c := range e2eContainers {
		ch, err := e.Changes(c.name)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ch {
			want[c.name] = append(want[c.name], l.Letter()+" "+report.Escape(l.Path))
		}
		sort.Strings(want[c.name])
		ci, err := e.InspectContainer(c.name)
		if err != nil {
			t.Fatal(err)
		}
		graph[c.name] = ci.GraphDriver.Data
	}
	if len(want["mixed"]) < 15 || len(want["append"]) != 2 || len(want["created"]) != 0 {
		t.Fatalf("the engine did not make the changes the scenario needs: %q", want)
	}
	t.Logf("docker diff mixed: %q", want["mixed"])
	return want, graph
}

// e2eView is a data root holding the scenario's containers: the engine's,
// a copy, or an aufs twin (whose containers may carry a name suffix).
type e2eView struct {
	root, origRoot string
	daemon         string
	suffix         string
	aufs           bool
}

// dirs maps a GraphDriver.Data path of the original root to this view:
// the same path under root, or the aufs driver's dir for the same layer.
func (v e2eView) dirs(p string) string {
	p = strings.ReplaceAll(p, v.origRoot, v.root)
	if !v.aufs || p == "" {
		return p
	}
	var out []string
	for _, d := range strings.Split(p, ":") {
		rel, ok := strings.CutPrefix(d, filepath.Join(v.root, "overlay2")+"/")
		id, sub, _ := strings.Cut(rel, "/")
		switch {
		case !ok:
			out = append(out, d)
		case sub == "diff":
			out = append(out, filepath.Join(v.root, "aufs/diff", id))
		case sub == "merged":
			out = append(out, filepath.Join(v.root, "aufs/mnt", id))
		default: // work: aufs has none
		}
	}
	return strings.Join(out, ":")
}

// checkAll runs dlayer diff and explain on every container of the scenario
// and compares them with what the engine said.
func checkAll(t *testing.T, v e2eView, want map[string][]string, graph map[string]map[string]string) {
	t.Helper()
	root, daemon := v.root, v.daemon
	for _, c := range e2eContainers {
		name := c.name + v.suffix
		out, errOut, code := runCLI("--root", root, "--daemon", daemon, "--mountinfo", "none", "diff", name)
		if code != 0 {
			t.Errorf("%s: dlayer diff exit %d: %s", c.name, code, errOut)
			continue
		}
		got := normalize(out)
		if strings.Join(got, "\n") != strings.Join(want[c.name], "\n") {
			t.Errorf("%s: dlayer diff differs from docker diff\n got: %q\nwant: %q", c.name, got, want[c.name])
		}
		x := explainJSON(t, root, daemon, name)
		g := graph[c.name]
		re := v.dirs
		if x.RWLayer.UpperDir != re(g["UpperDir"]) || x.RWLayer.WorkDir != re(g["WorkDir"]) ||
			x.RWLayer.MergedDir != re(g["MergedDir"]) || strings.Join(x.RWLayer.LowerDirs, ":") != re(g["LowerDir"]) {
			t.Errorf("%s: rw layer dirs %+v differ from docker inspect GraphDriver.Data %v", c.name, x.RWLayer, g)
		}
		for p, instr := range c.origins {
			ch := findChange(x, p)
			if ch == nil || ch.Origin == nil {
				t.Errorf("%s: %s: no change with an origin: %+v", c.name, p, ch)
				continue
			}
			if !strings.Contains(ch.Origin.CreatedBy, instr) {
				t.Errorf("%s: %s: origin %q, want the layer of %q", c.name, p, ch.Origin.CreatedBy, instr)
			}
		}
		for p, kind := range c.kinds {
			if ch := findChange(x, p); ch == nil || ch.Kind != kind {
				t.Errorf("%s: %s: got %+v, want kind %s", c.name, p, ch, kind)
			}
		}
		if c.name == "mixed" {
			if ch := findChange(x, "/data/sub"); ch == nil || strings.Join(ch.Hides, ",") != "/data/sub/b" {
				t.Errorf("mixed: opaque /data/sub must hide /data/sub/b: %+v", ch)
			}
			if ch := findChange(x, "/data/k"); ch == nil || ch.DockerDiff != "" || ch.Size != 5 {
				t.Errorf("mixed: /data/k opened for writing: %+v", ch)
			}
		}
		for _, f := range x.Findings {
			if f.Kind != "running_not_mounted" {
				t.Errorf("%s: unexpected finding %+v", c.name, f)
			}
		}
	}
}

// normalize maps dlayer's \xNN escapes of invalid UTF-8 to U+FFFD, which is
// what the engine's JSON makes of such bytes, and sorts.
var invalidByte = regexp.MustCompile(`\\x[89a-f][0-9a-f]`)

func normalize(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l != "" {
			lines = append(lines, invalidByte.ReplaceAllString(l, "\uFFFD"))
		}
	}
	sort.Strings(lines)
	return lines
}

func explainJSON(t *testing.T, root, daemon, name string) *inspect.Explanation {
	t.Helper()
	return clitest.ExplainJSON(t, runCLI, root, daemon, name)
}

func findChange(x *inspect.Explanation, p string) *inspect.Change {
	for i := range x.Changes {
		if x.Changes[i].Path == p {
			return &x.Changes[i]
		}
	}
	return nil
}
