package inspect

import "fmt"

// DaemonContainer is what a running Docker daemon says about a container:
// the parts dlayer cross-checks against the files.
type DaemonContainer struct {
	Running     bool
	Pid         int
	GraphDriver map[string]string // LowerDir, UpperDir, MergedDir, WorkDir
}

// CrossCheck compares an explanation made from the files with the daemon's
// view of the same container and returns each disagreement as a finding.
func CrossCheck(x *Explanation, d DaemonContainer) []Finding {
	var out []Finding
	add := func(what, daemon, files string) {
		out = append(out, Finding{Kind: "daemon_disagrees",
			Message: fmt.Sprintf("%s: the daemon says %q, the files say %q", what, daemon, files)})
	}
	if d.Running != x.Container.State.Running {
		add("running", fmt.Sprint(d.Running), fmt.Sprint(x.Container.State.Running))
	}
	if d.Running && d.Pid != x.Container.State.Pid {
		add("pid", fmt.Sprint(d.Pid), fmt.Sprint(x.Container.State.Pid))
	}
	rw := x.RWLayer
	for key, files := range map[string]string{
		"UpperDir": rw.UpperDir, "WorkDir": rw.WorkDir, "MergedDir": rw.MergedDir,
		"LowerDir": rw.GraphDriverLowerDir(),
	} {
		if v, ok := d.GraphDriver[key]; ok && v != files {
			add("GraphDriver."+key, v, files)
		}
	}
	return out
}
