package mounts

import (
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/mountinfo"
)

// storeMount describes m when a driver decodes it and one of its dirs lies
// under the data root (ok). A warning says what of m could not be parsed
// or resolved.
func (mp *mapper) storeMount(m mountinfo.Mount) (Mount, *inspect.Finding, bool) {
	sm := Mount{MountPoint: m.MountPoint, FSType: m.FSType, Options: m.SuperOptionsRaw,
		LowerDirs: []string{}, key: m.MajorMinor + "\x00" + m.Root + "\x00" + m.MountPoint}
	mpRoot, mpUnder := underRoot(mp.roots, m.MountPoint)
	dm, ok := mp.s.DecodeMount(m, mpRoot, mp.sysRoot)
	if !ok {
		return sm, nil, false // not a driver's, or relative to a cwd we cannot know
	}
	var warn *inspect.Finding
	if dm.Problem != nil {
		warn = &inspect.Finding{Kind: dm.Problem.Kind, Message: dm.Problem.Message}
	}
	sm.UpperDir, sm.WorkDir, sm.Relative, sm.Branches = dm.Upper, dm.Work, dm.Relative, dm.Branches
	if dm.Relative {
		sm.ResolvedIn = dm.Home
	}
	sm.LowerDirs = append(append(sm.LowerDirs, dm.Lowers...), dm.Data...)
	ok = mpUnder
	for _, d := range append([]string{sm.UpperDir, sm.WorkDir}, sm.LowerDirs...) {
		if _, u := underRoot(mp.roots, d); u && d != "" {
			ok = true
		}
		if _, _, u := mp.placePath(d); u && d != "" {
			ok = true // in a driver home outside the data root (containerd's snapshots)
		}
	}
	if !ok {
		return sm, warn, false
	}
	mp.placeLayer(&sm, m, dm.Problem == nil || !dm.Problem.Malformed)
	return sm, warn, true
}

// placeLayer finds the mount's driver and layer from its mount point (when
// it is a layer's mount point in the home of a driver that mounts m's
// file system type) or its upper dir, and, when its options parsed,
// resolves its lower dirs to layers and reads what the store says they
// should be.
func (mp *mapper) placeLayer(sm *Mount, m mountinfo.Mount, parsed bool) {
	if d, p, ok := mp.placePath(sm.MountPoint); ok && p.Kind == backend.PathLayerMountpoint && d.MountsFSType(m) {
		sm.drv, sm.LayerID, sm.Merged = d, p.ID, true
	} else if d, p, ok := mp.placePath(sm.UpperDir); ok && p.Kind == backend.PathLayerContent {
		sm.drv, sm.LayerID = d, p.ID
		// A driver whose mount point is outside its home (containerd's
		// <data root>/rootfs/<snapshotter>/<container>): the mount is at
		// its layer's own mount point when that is where Layout puts it.
		if mg := d.Layout(p.ID).Merged; mg != "" && d.MountsFSType(m) && sameUnder(sm.MountPoint, mg, mp.s.Root, mp.roots) {
			sm.Merged = true
		}
	}
	if sm.drv != nil {
		sm.Driver = sm.drv.Name().String()
	}
	if !parsed {
		return
	}
	sm.LowerLayers = []string{}
	for _, d := range sm.LowerDirs {
		sm.LowerLayers = append(sm.LowerLayers, mp.lowerLayer(d))
	}
	if sm.LayerID == "" || !mp.isDir(sm.drv.Layout(sm.LayerID).Dir) {
		return
	}
	sm.StoreLowerLayers = storeLowers(sm.drv, sm.LayerID)
	// A committed (image) layer mounted on its own may be mounted
	// read-only, its own content dir uppermost among the lowers (moby
	// overlay2 Get).
	if sm.StoreLowerLayers != nil && sm.UpperDir == "" && sm.drv.Terms().ReadOnlyMountIncludesSelf {
		sm.StoreLowerLayers = append([]string{sm.LayerID}, sm.StoreLowerLayers...)
	}
}

// placePath finds the driver whose home an absolute path lies in
// ("<home>/<id>/…", the home in any of its forms: homeForms) and has it
// parse the rest.
func (mp *mapper) placePath(p string) (backend.Driver, backend.Path, bool) {
	if p == "" || !filepath.IsAbs(p) {
		return nil, backend.Path{}, false
	}
	p = filepath.Clean(p)
	for _, d := range mp.s.Drivers() {
		for _, home := range mp.homeForms(d) {
			if rest, ok := strings.CutPrefix(p, home+"/"); ok {
				return d, d.ParsePath(strings.Split(rest, "/")), true
			}
		}
	}
	return nil, backend.Path{}, false
}

// homeForms are the forms of driver d's home a mount may show: below each
// form of the data root when the home is there; else (containerd's
// snapshotter dir, in the containerd root) as given and with its
// symlinks resolved.
func (mp *mapper) homeForms(d backend.Driver) []string {
	home := filepath.Clean(d.Home())
	if rel, err := filepath.Rel(mp.s.Root, home); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		var out []string
		for _, r := range mp.roots {
			out = append(out, filepath.Join(r, rel))
		}
		return out
	}
	return rootForms(home)
}

// lowerLayer is the layer a mounted lower dir is: a short link read as
// text, or a layer's content dir; "" when it is none of the store's.
func (mp *mapper) lowerLayer(dir string) string {
	d, p, ok := mp.placePath(dir)
	switch {
	case !ok:
		return ""
	case p.Kind == backend.PathShortLink && len(p.Rel) == 0:
		id, _, err := d.ShortLink(p.Link)
		if err != nil {
			return ""
		}
		return id
	case p.Kind == backend.PathLayerContent:
		return p.ID
	}
	return ""
}

// storeLowers reads the lower layers driver d mounts under layer id, as
// its records say (resolved through its short links); nil when that
// cannot be read.
func storeLowers(d backend.Driver, id string) []string {
	lowers, _, err := d.MountLowers(id)
	if err != nil {
		return nil
	}
	out := []string{}
	for _, lw := range lowers {
		out = append(out, lw.ID)
	}
	return out
}

// attribute sets the mount's container and state from the index.
func (mp *mapper) attribute(sm *Mount, idx *index) {
	sm.State = StateUnknown
	if sm.LayerID == "" {
		return
	}
	own, ok := idx.owners[layerKey{sm.drv.Name(), sm.LayerID}]
	if !ok {
		if !mp.exists(sm.drv.Layout(sm.LayerID).Dir) {
			sm.State = StateRemoved
		}
		return
	}
	sm.Container = &Container{ID: own.containerID, Layer: own.role}
	c, ok := idx.containers[own.containerID]
	if !ok {
		sm.State = StateRemoved
		return
	}
	sm.Container.Name, sm.Container.Status = c.Name, c.State.Status
	switch c.State.Status {
	case "running", "paused", "restarting":
		sm.State = StateRunning
	case "created":
		sm.State = StateCreated
	default:
		sm.State = StateStopped
	}
}

// exists reports whether p is there, through the store's opener.
func (mp *mapper) exists(p string) bool {
	_, err := mp.s.FS().Lstat(p)
	return err == nil
}

// isDir reports whether p is a directory (not a link to one).
func (mp *mapper) isDir(p string) bool {
	fi, err := mp.s.FS().Lstat(p)
	return err == nil && fi.IsDir()
}
