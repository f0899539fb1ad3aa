package mounts

import (
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/prometheus/procfs"
)

// readTasks lists the containers that have a containerd task, from the
// processes under procRoot (where procfs is mounted): every container ID
// named by the argv of a containerd shim (comm "containerd-shim", which
// the kernel cuts containerd-shim-runc-v2 to), whether as an argument
// (v2: -id <id>) or as the last element of a path (v1: -workdir
// …/moby/<id>). Docker creates the task after it mounted the container's
// rw layer and before its config says running, and deletes it before its
// config says exited; an unreadable process is skipped.
func readTasks(procRoot string) map[string]bool {
	out := map[string]bool{}
	pfs, err := procfs.NewFS(procRoot)
	if err != nil {
		return out
	}
	procs, err := pfs.AllProcs()
	if err != nil {
		return out
	}
	for _, p := range procs {
		comm, err := p.Comm()
		if err != nil || !strings.HasPrefix(comm, "containerd-shim") {
			continue
		}
		args, err := p.CmdLine()
		if err != nil {
			continue
		}
		for _, a := range args[min(1, len(args)):] {
			if id := filepath.Base(a); inspect.IsHex64(id) {
				out[id] = true
			}
		}
	}
	return out
}

// starting takes the leaked_mount findings of created containers that
// have a containerd task out of r's problems: `docker start` is under
// way (Docker mounts the rw layer, then creates the task, then writes
// running into the config, which takes seconds on a busy host). Each is a
// Changed entry (starting).
func starting(r *Report, tasks map[string]bool) {
	if len(tasks) == 0 {
		return
	}
	var keep []inspect.Finding
	for _, f := range r.Findings {
		m := mountAtPoint(r, f.Path)
		if Problem(f.Kind) != Leaked || m == nil || m.State != StateCreated || m.Container == nil || !tasks[m.Container.ID] {
			keep = append(keep, f)
			continue
		}
		c := m.Container
		r.Changed = append(r.Changed, Changed{Kind: ChangedDuringScan, Path: f.Path, Seen: []Problem{Leaked}, Now: SettledStarting,
			Message: "container " + c.Name + " (" + shortID(c.ID) + ") is being started: its config says created, but its containerd task exists " +
				"(a containerd-shim process names it) and Docker mounts the rw layer before it starts the task: not a problem"})
		dropProblems(r, f.Path, look{finds: []inspect.Finding{f}})
	}
	r.Findings = keep
}

// mountAtPoint is r's mount at mount point p.
func mountAtPoint(r *Report, p string) *Mount {
	for i := range r.Mounts {
		if r.Mounts[i].MountPoint == p {
			return &r.Mounts[i]
		}
	}
	return nil
}
