package main

import (
	"runtime/debug"
	"strings"
)

// version is the binary's module version and VCS revision, from its
// build info: "v1.2.3 (rev 0123abcd, 2026-12-01T22:00:00Z)", "(devel)"
// when built from a work tree, with "+dirty" when it had changes.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build info)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	var parts []string
	if rev != "" {
		parts = append(parts, "rev "+rev[:min(12, len(rev))]+dirty)
	}
	if when != "" {
		parts = append(parts, when)
	}
	parts = append(parts, bi.GoVersion)
	return v + " (" + strings.Join(parts, ", ") + ")"
}
