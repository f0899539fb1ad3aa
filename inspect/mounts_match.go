package inspect

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/mountinfo"
)

// Driver homes whose mounts are recognized, and where each keeps its
// mount points and layer content.
//
//	overlay2: <root>/overlay2/<id>/merged, upper <root>/overlay2/<id>/diff,
//	          lowers <root>/overlay2/l/<LINK> (or <id>/diff)
//	aufs:     <root>/aufs/mnt/<id>, branches <root>/aufs/diff/<id>
var mountDrivers = []string{"overlay2", "aufs"}

// mountIndex maps driver dirs to the containers whose rw or init layer
// they are, from layerdb/mounts of every driver.
type mountIndex struct {
	owners     map[string]layerOwner // "<driver>/<layer id>"
	containers map[string]Container
	running    []runningRW
}

type layerOwner struct {
	containerID string
	layer       string // rw or init
}

// runningRW is a running container's rw layer, which should be mounted.
type runningRW struct {
	id, name, driver, mountID, merged string
}

// mountIndex reads the containers and layerdb/mounts; unreadable entries
// become warnings of r.
func (s *Store) mountIndex(r *MountsReport) (*mountIndex, error) {
	cs, finds, err := s.Containers()
	if err != nil {
		return nil, err
	}
	r.Warnings = append(r.Warnings, finds...)
	idx := &mountIndex{owners: map[string]layerOwner{}, containers: map[string]Container{}}
	for _, c := range cs {
		idx.containers[c.ID] = c
	}
	rwOf := map[string]map[string]string{} // container → driver → mount-id
	for _, drv := range mountDrivers {
		ds := &Store{Root: s.Root, Driver: drv, graph: NewDriver(s.Root, drv)}
		ids, err := ds.MountContainerIDs()
		if err != nil {
			r.Warnings = append(r.Warnings, Finding{Kind: "mount_record_unreadable", Path: ds.imageDir("layerdb", "mounts"), Message: err.Error()})
			continue
		}
		for _, cid := range ids {
			rec, err := ds.MountRecord(cid)
			if err != nil {
				r.Warnings = append(r.Warnings, Finding{Kind: "mount_record_unreadable", Path: ds.imageDir("layerdb", "mounts", cid), Message: err.Error()})
				continue
			}
			idx.owners[drv+"/"+rec.MountID] = layerOwner{containerID: cid, layer: "rw"}
			if rec.InitID != "" {
				idx.owners[drv+"/"+rec.InitID] = layerOwner{containerID: cid, layer: "init"}
			}
			if rwOf[cid] == nil {
				rwOf[cid] = map[string]string{}
			}
			rwOf[cid][drv] = rec.MountID
		}
	}
	for _, c := range cs {
		if !c.State.Running {
			continue
		}
		// The container's own driver, when it has a record there.
		for _, drv := range mountDrivers {
			mid, ok := rwOf[c.ID][drv]
			if !ok || (len(rwOf[c.ID]) > 1 && c.Driver != drv) {
				continue
			}
			idx.running = append(idx.running, runningRW{id: c.ID, name: c.Name, driver: drv, mountID: mid, merged: s.mergedDir(drv, mid)})
		}
	}
	return idx, nil
}

// mergedDir is where a driver mounts layer id.
func (s *Store) mergedDir(driver, id string) string {
	return NewDriver(s.Root, driver).Layout(id).Merged
}

// layerDir is a driver's dir of layer id (aufs: its content dir).
func (s *Store) layerDirOf(driver, id string) string {
	return NewDriver(s.Root, driver).Layout(id).Dir
}

// storeMount describes m when one of its dirs lies under the data root
// (ok). A warning says what of m could not be parsed or resolved.
func (s *Store) storeMount(m mountinfo.Mount, roots []string, sysRoot string) (StoreMount, *Finding, bool) {
	sm := StoreMount{MountPoint: m.MountPoint, FSType: m.FSType, Options: m.SuperOptionsRaw,
		LowerDirs: []string{}, key: m.MajorMinor + "\x00" + m.Root + "\x00" + m.MountPoint}
	mpRoot, mpUnder := underRoot(roots, m.MountPoint)
	home := ""
	if mpUnder {
		home = filepath.Join(mpRoot, "overlay2")
	}
	md, warn, ok := decodeMount(m, home, sysRoot)
	if !ok {
		return sm, warn, false // relative to a cwd we cannot know
	}
	sm.UpperDir, sm.WorkDir, sm.Relative, sm.Branches = md.upper, md.work, md.relative, md.branches
	sm.LowerDirs = append(append(sm.LowerDirs, md.lowers...), md.data...)
	ok = mpUnder
	for _, d := range append([]string{sm.UpperDir, sm.WorkDir}, sm.LowerDirs...) {
		if _, u := underRoot(roots, d); u && d != "" {
			ok = true
		}
	}
	if !ok {
		return sm, warn, false
	}
	s.placeLayer(&sm, roots, warn == nil || warn.Kind != "mount_options_malformed")
	return sm, warn, true
}

// placeLayer finds the mount's driver and layer from its mount point or
// upper dir, and, when its options parsed, resolves its lower dirs to
// layers and reads what the store says they should be.
func (s *Store) placeLayer(sm *StoreMount, roots []string, parsed bool) {
	mp, _ := relToRoot(roots, sm.MountPoint)
	up, _ := relToRoot(roots, sm.UpperDir)
	switch {
	case matchPath(mp, "overlay2", "*", "merged") && sm.FSType == "overlay":
		sm.Driver, sm.LayerID, sm.Merged = "overlay2", strings.Split(mp, "/")[1], true
	case matchPath(mp, "aufs", "mnt", "*") && sm.FSType == "aufs":
		sm.Driver, sm.LayerID, sm.Merged = "aufs", strings.Split(mp, "/")[2], true
	case matchPath(up, "overlay2", "*", "diff"):
		sm.Driver, sm.LayerID = "overlay2", strings.Split(up, "/")[1]
	case matchPath(up, "aufs", "diff", "*"):
		sm.Driver, sm.LayerID = "aufs", strings.Split(up, "/")[2]
	}
	if !parsed {
		return
	}
	sm.LowerLayers = []string{}
	for _, d := range sm.LowerDirs {
		sm.LowerLayers = append(sm.LowerLayers, s.lowerLayer(roots, d))
	}
	if sm.LayerID == "" || !isDir(s.layerDirOf(sm.Driver, sm.LayerID)) {
		return
	}
	sm.StoreLowerLayers = s.storeLowers(sm.Driver, sm.LayerID)
	// A committed (image) layer is mounted read-only, its own diff dir
	// uppermost among the lowers (moby overlay2 Get).
	if sm.StoreLowerLayers != nil && sm.UpperDir == "" && sm.Driver == "overlay2" {
		sm.StoreLowerLayers = append([]string{sm.LayerID}, sm.StoreLowerLayers...)
	}
}

// lowerLayer is the layer a mounted lower dir is: an l/ link read as text,
// <id>/diff, or aufs/diff/<id>; "" when it is none of the store's.
func (s *Store) lowerLayer(roots []string, d string) string {
	rel, ok := relToRoot(roots, d)
	if !ok {
		return ""
	}
	parts := strings.Split(rel, "/")
	switch {
	case matchPath(rel, "overlay2", "l", "*"):
		id, err := s.Overlay().ResolveLink(parts[2])
		if err != nil {
			return ""
		}
		return id
	case matchPath(rel, "overlay2", "*", "diff"):
		return parts[1]
	case matchPath(rel, "aufs", "diff", "*"):
		return parts[2]
	}
	return ""
}

// storeLowers reads what the store says layer id's lowers are: overlay2's
// <id>/lower resolved through l/, or aufs/layers/<id>; nil when that
// cannot be read.
func (s *Store) storeLowers(driver, id string) []string {
	out := []string{}
	lowers, _, err := NewDriver(s.Root, driver).Lowers(id)
	if err != nil {
		return nil
	}
	for _, lw := range lowers {
		out = append(out, lw.ID)
	}
	return out
}

// attribute sets the mount's container and state from the index.
func (s *Store) attribute(sm *StoreMount, idx *mountIndex) {
	sm.State = MountStateUnknown
	if sm.LayerID == "" {
		return
	}
	own, ok := idx.owners[sm.Driver+"/"+sm.LayerID]
	if !ok {
		if !exists(s.layerDirOf(sm.Driver, sm.LayerID)) {
			sm.State = MountStateRemoved
		}
		return
	}
	sm.Container = &MountContainer{ID: own.containerID, Layer: own.layer}
	c, ok := idx.containers[own.containerID]
	if !ok {
		sm.State = MountStateRemoved
		return
	}
	sm.Container.Name, sm.Container.Status = c.Name, c.State.Status
	switch c.State.Status {
	case "running", "paused", "restarting":
		sm.State = MountStateRunning
	case "created":
		sm.State = MountStateCreated
	default:
		sm.State = MountStateStopped
	}
}

// hasMountOf reports whether a running container's rw layer is among the
// mounts.
func hasMountOf(ms []StoreMount, c runningRW) bool {
	for _, m := range ms {
		if m.Driver == c.driver && m.LayerID == c.mountID {
			return true
		}
	}
	return false
}

// mountDirs are the dirs of an overlay or aufs mount, decoded and cleaned.
type mountDirs struct {
	upper, work string
	// lowers are overlay's lowerdir (aufs: the branches below the
	// writable one), uppermost first; data its data-only lower dirs.
	lowers, data []string
	branches     []mountinfo.Branch
	relative     bool
}

// decodeMount reads the dirs of an overlay or aufs mount from its options.
// Relative overlay forms (l/…) are resolved against home, the overlay2
// driver dir; ok is false when they are relative and home is "". aufs
// branches hidden behind si= are read from sysfs under sysRoot ("" reads
// none). warn says what could not be parsed ("mount_options_malformed")
// or resolved ("aufs_branches_unknown"); the dirs known are still set.
func decodeMount(m mountinfo.Mount, home, sysRoot string) (md mountDirs, warn *Finding, ok bool) {
	switch m.FSType {
	case "overlay":
		ov, err := m.Overlay()
		if err != nil {
			return md, &Finding{Kind: "mount_options_malformed", Message: err.Error()}, true
		}
		if ov.Relative() {
			if home == "" {
				return md, nil, false
			}
			md.relative = true
			ov = ov.Resolve(home)
		}
		md.upper, md.work = cleanOrEmpty(ov.UpperDir), cleanOrEmpty(ov.WorkDir)
		for _, d := range ov.LowerDirs {
			md.lowers = append(md.lowers, filepath.Clean(d))
		}
		for _, d := range ov.DataDirs {
			md.data = append(md.data, filepath.Clean(d))
		}
	case "aufs":
		a, err := m.Aufs()
		if err != nil {
			return md, &Finding{Kind: "mount_options_malformed", Message: err.Error()}, true
		}
		if a.Branches == nil && sysRoot != "" {
			if r, err := a.ResolveSysfs(sysRoot); err != nil {
				warn = &Finding{Kind: "aufs_branches_unknown", Message: "mountinfo shows only si=" + a.SI + " and sysfs has no branches: " + err.Error()}
			} else {
				a = r
			}
		}
		md.branches = a.Branches
		for _, b := range a.Branches {
			if md.upper == "" && b.Writable() {
				md.upper = filepath.Clean(b.Path)
				continue
			}
			md.lowers = append(md.lowers, filepath.Clean(b.Path))
		}
	}
	return md, warn, true
}

// LiveMounts lists the overlay and aufs mounts of tables as explain and
// whose compare them with a container's rw layer: relative overlay forms
// resolved against the store's overlay2 dir, aufs branches read from
// sysfs under sysRoot when mountinfo shows only si=. A mount whose options
// do not parse is a finding (mountinfo_malformed) naming its table line.
func (s *Store) LiveMounts(tables []mountinfo.Table, sysRoot string) (mounts []LiveMount, finds []Finding) {
	for _, t := range tables {
		for _, m := range t.Mounts {
			if m.FSType != "overlay" && m.FSType != "aufs" {
				continue
			}
			md, warn, _ := decodeMount(m, s.Overlay().Dir, sysRoot)
			if warn != nil && warn.Kind == "mount_options_malformed" {
				finds = append(finds, Finding{Kind: "mountinfo_malformed", Path: fmt.Sprintf("%s:%d", t.Path, m.Line), Message: warn.Message})
				continue
			}
			lm := LiveMount{MountPoint: m.MountPoint, UpperDir: md.upper, WorkDir: md.work, LowerDirs: md.lowers, Options: m.SuperOptionsRaw}
			if lm.LowerDirs == nil && m.FSType == "aufs" {
				lm.LowerDirs = []string{}
			}
			mounts = append(mounts, lm)
		}
	}
	return mounts, finds
}
