package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/mounts"
)

// TestMountsE2E runs dlayer mounts against a private real engine: every
// running container maps to its overlay mount as `docker inspect` describes
// it, however the mount tables are named (auto, the daemon's PID, a copied
// file); then a leaked mount, a running container whose mount is gone and
// a mount with the wrong lower layers are each flagged. Everything mounted
// here is beneath the engine's own data root and the test's temp dirs.
func TestMountsE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("mnt-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("mnt:1", "FROM mnt-base:1\nRUN echo layer > /layer\n", nil); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "-d", "--network", "none", "--name", "run1", "mnt:1", "sleep", "3600"},
		{"run", "-d", "--network", "none", "--name", "run2", "mnt:1", "sleep", "3600"},
		{"run", "--network", "none", "--name", "stopped", "mnt:1", "sh", "-c", "echo s > /s"},
		{"create", "--network", "none", "--name", "created", "mnt:1", "true"},
	} {
		if out, err := e.Docker(args...); err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
	}
	ci := map[string]engine.ContainerJSON{}
	for _, n := range []string{"run1", "run2", "stopped", "created"} {
		c, err := e.InspectContainer(n)
		if err != nil {
			t.Fatal(err)
		}
		ci[n] = c
	}
	root := e.Root()
	ns, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("running containers map to their mounts", func(t *testing.T) {
		copied := filepath.Join(t.TempDir(), "mountinfo")
		b, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(copied, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, src := range []string{"auto", strconv.Itoa(e.Pid()), copied} {
			r, code := mountsJSON(t, root, src)
			if code != 0 || len(r.Findings) != 0 || len(r.Mounts) != 2 {
				t.Fatalf("--mountinfo %s: exit %d, %d mounts, findings %+v", src, code, len(r.Mounts), r.Findings)
			}
			for _, n := range []string{"run1", "run2"} {
				checkMountMatchesInspect(t, r, root, ci[n], mounts.StateRunning)
			}
			switch src {
			case "auto":
				// The daemon shares the test's namespace: one table, read
				// once, listing the daemon among its processes.
				if len(r.Tables) < 1 || r.Tables[0].Namespace != ns ||
					!slices.Contains(r.Tables[0].Procs, "dockerd["+strconv.Itoa(e.Pid())+"]") {
					t.Errorf("auto: tables %+v; want dockerd[%d] in %s", r.Tables, e.Pid(), ns)
				}
				for _, m := range r.Mounts {
					if strings.Join(m.Namespaces(), ",") != ns || m.Seen[0].Table != r.Tables[0].Path {
						t.Errorf("%s seen %+v, want once in %s", m.MountPoint, m.Seen, ns)
					}
				}
			case copied:
				if r.Tables[0].Namespace != "" || r.Mounts[0].Seen[0].Table != copied {
					t.Errorf("file: %+v", r.Tables)
				}
			default:
				if r.Tables[0].Namespace != ns || r.Tables[0].Procs[0] != "dockerd["+src+"]" {
					t.Errorf("pid: %+v", r.Tables)
				}
			}
		}
	})

	// run2 stops: Docker unmounts its rw layer and removes merged/. Then a
	// mount at its merged dir, of its own lower dirs with a fresh upper dir
	// in a temp dir, is what a leak looks like.
	if out, err := e.Docker("stop", "-t", "1", "run2"); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	run2 := ci["run2"].GraphDriver.Data
	if _, err := os.Stat(run2["MergedDir"]); !os.IsNotExist(err) {
		t.Fatalf("after docker stop, %s: %v (want it removed)", run2["MergedDir"], err)
	}
	mountOverlay(t, run2["MergedDir"], run2["LowerDir"])

	// The created container's merged dir, with only the base layer below.
	created := ci["created"].GraphDriver.Data
	lowers := strings.Split(created["LowerDir"], ":")
	mountOverlay(t, created["MergedDir"], lowers[len(lowers)-1])

	// run1's rw layer lazily unmounted under the running container.
	run1 := ci["run1"].GraphDriver.Data["MergedDir"]
	if err := syscall.Unmount(run1, syscall.MNT_DETACH); err != nil {
		t.Fatalf("umount -l %s: %v", run1, err)
	}

	t.Run("leaked, missing and mismatched mounts", func(t *testing.T) {
		r, code := mountsJSON(t, root, "auto")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		leak := checkMountMatchesInspect(t, r, root, ci["run2"], mounts.StateStopped)
		if leak != nil && !slices.Contains(leak.Problems, mounts.Leaked) {
			t.Errorf("run2: problems %v, want %s", leak.Problems, mounts.Leaked)
		}
		var cm *mounts.Mount
		for i := range r.Mounts {
			if r.Mounts[i].MountPoint == created["MergedDir"] {
				cm = &r.Mounts[i]
			}
		}
		if cm == nil || cm.State != mounts.StateCreated || cm.Container.ID != ci["created"].ID ||
			!slices.Contains(cm.Problems, mounts.Leaked) || !slices.Contains(cm.Problems, mounts.LowerMismatch) {
			t.Errorf("created: %+v", cm)
		}
		want := map[string]string{ // finding kind → path
			mounts.Leaked.String() + " " + run2["MergedDir"]:                         "",
			mounts.Leaked.String() + " " + created["MergedDir"]:                      "",
			mounts.LowerMismatch.String() + " " + created["MergedDir"]:               "",
			mounts.UpperMismatch.String() + " " + run2["MergedDir"]:                  "",
			mounts.UpperMismatch.String() + " " + created["MergedDir"]:               "",
			mounts.Missing.String() + " " + ci["run1"].GraphDriver.Data["MergedDir"]: "",
		}
		for _, f := range r.Findings {
			k := f.Kind.String() + " " + f.Path
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected finding %+v", f)
			}
			delete(want, k)
		}
		for k := range want {
			t.Errorf("missing finding %s", k)
		}
		// The table says the same to a person.
		out, _, code := runCLI("--root", root, "--daemon", "off", "mounts")
		if code != 1 || !strings.Contains(out, "run2 ("+ci["run2"].ID[:12]+")") || !strings.Contains(out, "stopped") ||
			!strings.Contains(out, "leaked_mount") || !strings.Contains(out, "running_not_mounted") {
			t.Errorf("table, exit %d:\n%s", code, out)
		}
	})
}

// checkMountMatchesInspect finds the mount at the container's MergedDir
// and compares it with docker inspect: container, state, lower dirs.
func checkMountMatchesInspect(t *testing.T, r *mounts.Report, root string, c engine.ContainerJSON, state mounts.State) *mounts.Mount {
	t.Helper()
	g := c.GraphDriver.Data
	for i := range r.Mounts {
		m := &r.Mounts[i]
		if m.MountPoint != g["MergedDir"] {
			continue
		}
		var diffs []string
		for _, id := range m.LowerLayers {
			diffs = append(diffs, filepath.Join(root, "overlay2", id, "diff"))
		}
		if m.State != state || m.Container == nil || m.Container.ID != c.ID || m.Container.Name != strings.TrimPrefix(c.Name, "/") ||
			m.Container.Layer != "rw" || !m.Merged || strings.Join(diffs, ":") != g["LowerDir"] {
			t.Errorf("%s: %+v\nlower layers %v; docker inspect: %v", c.Name, m, diffs, g)
		}
		if state == mounts.StateRunning && (m.UpperDir != g["UpperDir"] || m.WorkDir != g["WorkDir"]) {
			t.Errorf("%s: upper %s work %s; docker inspect: %v", c.Name, m.UpperDir, m.WorkDir, g)
		}
		return m
	}
	t.Errorf("%s: no mount at %s in %+v", c.Name, g["MergedDir"], r.Mounts)
	return nil
}

// mountOverlay mounts an overlay of lower (colon-separated dirs) with a
// fresh upper and work dir in a temp dir at target (created if missing),
// and unmounts it at cleanup.
func mountOverlay(t *testing.T, target, lower string) {
	t.Helper()
	tmp := t.TempDir()
	up, work := filepath.Join(tmp, "up"), filepath.Join(tmp, "work")
	for _, d := range []string{up, work, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data := "lowerdir=" + lower + ",upperdir=" + up + ",workdir=" + work
	if err := syscall.Mount("overlay", target, "overlay", 0, data); err != nil {
		t.Fatalf("mount -t overlay -o %s %s: %v", data, target, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(target, syscall.MNT_DETACH); err != nil {
			t.Errorf("umount %s: %v", target, err)
		}
	})
}

// mountsJSON runs dlayer mounts --format json.
func mountsJSON(t *testing.T, root, mountinfo string) (*mounts.Report, int) {
	t.Helper()
	out, errOut, code := runCLI("--root", root, "--daemon", "off", "--mountinfo", mountinfo, "--format", "json", "mounts")
	var r mounts.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--mountinfo %s: exit %d: %v\n%s", mountinfo, code, err, errOut)
	}
	if errOut != "" {
		t.Logf("--mountinfo %s stderr: %s", mountinfo, errOut)
	}
	return &r, code
}
