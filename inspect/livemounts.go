package inspect

import (
	"fmt"
	"path/filepath"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/mountinfo"
)

// DecodedMount is a live mount decoded by the driver whose file system
// type it is.
type DecodedMount struct {
	backend.MountDirs
	// Driver is the driver that decoded the mount.
	Driver backend.Driver
	// Home is the driver home relative forms were resolved against: the
	// driver's home under the root form the mount lies in; "" when the
	// mount lies in none.
	Home string
	// Problem says what of the options could not be decoded; with
	// Problem.Malformed the dirs are unknown.
	Problem *backend.MountProblem
}

// DecodeMount decodes m with the first registered driver (whether or not
// the root holds its store) that decodes it. Relative forms are resolved
// against that driver's home under liveRoot, the form of the data root the
// mount lies in (the live root when Root is a copy, or Root with its
// symlinks resolved); with liveRoot "" they are not, and such a mount does
// not decode. sysRoot is where sysfs is mounted ("" reads none). ok is
// false when no driver decodes m.
func (s *Store) DecodeMount(m mountinfo.Mount, liveRoot, sysRoot string) (DecodedMount, bool) {
	for _, d := range s.Drivers() {
		home := ""
		if liveRoot != "" {
			if rel, err := filepath.Rel(s.Root, d.Home()); err == nil {
				home = filepath.Join(liveRoot, rel)
			}
		}
		md, pr, ok := d.DecodeMount(m, home, sysRoot)
		if pr != nil || ok {
			return DecodedMount{MountDirs: md, Driver: d, Home: home, Problem: pr}, true
		}
	}
	return DecodedMount{}, false
}

// LiveMounts lists the union mounts of tables (those a registered driver
// decodes) as explain and whose compare them with a container's rw layer:
// relative forms resolved against the driver's home under Root, aufs
// branches read from sysfs under sysRoot when mountinfo shows only si=. A
// mount whose options do not parse is a finding (mountinfo_malformed)
// naming its table line.
func (s *Store) LiveMounts(tables []mountinfo.Table, sysRoot string) (mounts []LiveMount, finds []Finding) {
	for _, t := range tables {
		for _, m := range t.Mounts {
			dm, ok := s.DecodeMount(m, s.Root, sysRoot)
			if !ok {
				continue
			}
			if dm.Problem != nil && dm.Problem.Malformed {
				finds = append(finds, Finding{Kind: "mountinfo_malformed", Path: fmt.Sprintf("%s:%d", t.Path, m.Line), Message: dm.Problem.Message})
				continue
			}
			mounts = append(mounts, LiveMount{MountPoint: m.MountPoint, UpperDir: dm.Upper, WorkDir: dm.Work, LowerDirs: dm.Lowers, Options: m.SuperOptionsRaw})
		}
	}
	return mounts, finds
}
