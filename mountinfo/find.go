package mountinfo

import "path/filepath"

// FindOverlayByUpper returns the first overlay mount in mounts whose
// upperdir is upperDir, with its options resolved against driverHome.
//
// The kernel shows upperdir as the mounting process gave it, absolute or
// (Docker overlay2 with long layer chains) relative to the driver home.
// Each mount's relative paths are therefore joined to driverHome before
// comparing; a relative upperDir is joined to driverHome as well. Pass
// the driver home as the kernel saw it (the daemon's
// "<data-root>/overlay2"), not the location of a copied store. With
// driverHome "" relative paths are compared as they are. Paths are
// compared after filepath.Clean. Mounts whose options do not parse are
// skipped.
//
// The kernel only warns when an upper dir is already in use by another
// overlay mount, so a table can hold several; the first in table order is
// returned. An empty upperDir matches nothing.
func FindOverlayByUpper(mounts []Mount, upperDir string, driverHome string) (Mount, Overlay, bool) {
	if upperDir == "" {
		return Mount{}, Overlay{}, false
	}
	want := upperDir
	if driverHome != "" && !filepath.IsAbs(want) {
		want = filepath.Join(driverHome, want)
	}
	want = filepath.Clean(want)
	for _, m := range mounts {
		if m.FSType != "overlay" {
			continue
		}
		o, err := ParseOverlay(m.SuperOptionsRaw)
		if err != nil || o.UpperDir == "" {
			continue
		}
		if driverHome != "" {
			o = o.Resolve(driverHome)
		}
		if filepath.Clean(o.UpperDir) == want {
			return m, o, true
		}
	}
	return Mount{}, Overlay{}, false
}

// FindByMountPoint returns the mount visible at path: among the mounts
// whose MountPoint equals path (after filepath.Clean), the one no other
// of them is stacked on (a mount on top of another at the same point has
// it as parent). When that does not single one out, the last in table
// order wins, as later mounts cover earlier ones.
func FindByMountPoint(mounts []Mount, path string) (Mount, bool) {
	want := filepath.Clean(path)
	var at []Mount
	for _, m := range mounts {
		if filepath.Clean(m.MountPoint) == want {
			at = append(at, m)
		}
	}
	if len(at) == 0 {
		return Mount{}, false
	}
	covered := make(map[int]bool, len(at))
	for _, m := range at {
		if m.ParentID != m.MountID {
			covered[m.ParentID] = true
		}
	}
	for i := len(at) - 1; i >= 0; i-- {
		if !covered[at[i].MountID] {
			return at[i], true
		}
	}
	return at[len(at)-1], true
}
