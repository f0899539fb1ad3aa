package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/report"
)

// build is what the binary's build info says of it.
type build struct {
	Version, Revision, RevisionTime, GoVersion string
	Modified                                   bool
}

// readBuild reads the build info: the module version ("(devel)" when
// built from a work tree) and, when the build recorded them, the VCS
// revision, its time and whether the tree had changes.
func readBuild() build {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return build{Version: "unknown (no build info)"}
	}
	b := build{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.RevisionTime = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// version is the binary's module version and VCS revision, from its
// build info: "v1.2.3 (rev 0123abcd, 2026-12-01T22:00:00Z)", "(devel)"
// when built from a work tree, with "+dirty" when it had changes.
func version() string {
	b := readBuild()
	if b.GoVersion == "" {
		return b.Version
	}
	var parts []string
	if b.Revision != "" {
		dirty := ""
		if b.Modified {
			dirty = "+dirty"
		}
		parts = append(parts, "rev "+b.Revision[:min(12, len(b.Revision))]+dirty)
	}
	if b.RevisionTime != "" {
		parts = append(parts, b.RevisionTime)
	}
	parts = append(parts, b.GoVersion)
	return b.Version + " (" + strings.Join(parts, ", ") + ")"
}

// provenance is what every JSON document records of the run that wrote
// it: this build, the command line, the host, the roots read, when, and
// the process's effective IDs and capabilities.
func provenance(argv []string, root, containerdRoot string, started time.Time) report.Provenance {
	b := readBuild()
	host, _ := os.Hostname()
	p := report.Provenance{Tool: "dlayer", Version: b.Version, Revision: b.Revision, RevisionTime: b.RevisionTime,
		Modified: b.Modified, GoVersion: b.GoVersion, Command: append([]string{}, argv...), Host: host,
		Root: absPath(root), Started: started.UTC(), EUID: os.Geteuid(), EGID: os.Getegid(), Capabilities: []string{}}
	if containerdRoot != "" {
		if fi, err := os.Stat(containerdRoot); err == nil && fi.IsDir() {
			p.ContainerdRoot = absPath(containerdRoot)
		}
	}
	if eff, ok := layerfs.EffectiveCapabilities(); ok {
		p.CapEff = fmt.Sprintf("%016x", eff)
		p.Capabilities = layerfs.CapabilityNames(eff)
	}
	return p
}

// absPath is p made absolute and clean (p itself when that fails).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
