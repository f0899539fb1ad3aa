package mounts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/mountinfo"
)

// fakeProc writes a procfs of processes: pid → comm and argv.
func fakeProc(t *testing.T, procs map[string][]string) string {
	t.Helper()
	root := t.TempDir()
	for pid, argv := range procs {
		dir := filepath.Join(root, pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		comm := filepath.Base(argv[0])
		if len(comm) > 15 {
			comm = comm[:15] // as the kernel keeps it
		}
		if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(strings.Join(argv, "\x00")+"\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestReadTasks(t *testing.T) {
	a, b, c := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	proc := fakeProc(t, map[string][]string{
		"10": {"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", a, "-address", "/run/containerd/containerd.sock"},
		"11": {"containerd-shim", "-namespace", "moby", "-workdir", "/var/lib/containerd/io.containerd.runtime.v1.linux/moby/" + b},
		"12": {"/usr/bin/sleep", c}, // not a shim
	})
	got := readTasks(proc)
	if len(got) != 2 || !got[a] || !got[b] {
		t.Errorf("tasks %v", got)
	}
	if len(readTasks(filepath.Join(proc, "absent"))) != 0 {
		t.Error("no procfs: tasks")
	}
}

// A created container whose mount is there and whose containerd task
// exists is being started: a changed_during_scan entry (starting), not a
// leak. Without the processes (a copied table), or with a task of another
// container, it is leaked as before.
func TestMountOfStartingContainer(t *testing.T) {
	s, b := spacedStore(t)
	fresh, web := b.Container("fresh"), b.Container("web")
	tb := []mountinfo.Table{table(t, "mi", "", mountOf(t, s, 49, web.MountID), mountOf(t, s, 52, fresh.MountID))}
	shim := func(id string) string {
		return fakeProc(t, map[string][]string{"77": {"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", id}})
	}
	for _, c := range []struct {
		name, proc string
		leaked     bool
	}{{"task", shim(fresh.ID), false}, {"no processes", "", true}, {"another's task", shim(web.ID), true}} {
		r, err := Map(s, Options{Tables: tb, ProcRoot: c.proc})
		if err != nil {
			t.Fatal(err)
		}
		m := mountAt(r, filepath.Join(s.Home(), fresh.MountID, "merged"))
		if c.leaked {
			if !slices.Equal(kinds(r.Findings), []string{"leaked_mount"}) || len(r.Changed) != 0 || m == nil || !slices.Equal(m.Problems, []Problem{Leaked}) {
				t.Errorf("%s: findings %+v changed %+v", c.name, r.Findings, r.Changed)
			}
			continue
		}
		if len(r.Findings) != 0 || len(r.Changed) != 1 || r.Changed[0].Now != SettledStarting || !strings.Contains(r.Changed[0].Message, "fresh") ||
			m == nil || m.State != StateCreated || len(m.Problems) != 0 {
			t.Errorf("%s: findings %+v changed %+v mount %+v", c.name, r.Findings, r.Changed, m)
		}
	}
}
