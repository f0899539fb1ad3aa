package inspect

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/mountinfo"
)

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
	for _, ds := range s.stores() {
		drv := ds.Driver
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
		for _, ds := range s.stores() {
			drv := ds.Driver
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
	d, _ := s.driverNamed(driver)
	return d.Layout(id).Merged
}

// layerDirOf is a driver's dir of layer id (aufs: its content dir).
func (s *Store) layerDirOf(driver, id string) string {
	d, _ := s.driverNamed(driver)
	return d.Layout(id).Dir
}

// storeMount describes m when one of its dirs lies under the data root
// (ok). A warning says what of m could not be parsed or resolved.
func (s *Store) storeMount(m mountinfo.Mount, roots []string, sysRoot string) (StoreMount, *Finding, bool) {
	sm := StoreMount{MountPoint: m.MountPoint, FSType: m.FSType, Options: m.SuperOptionsRaw,
		LowerDirs: []string{}, key: m.MajorMinor + "\x00" + m.Root + "\x00" + m.MountPoint}
	mpRoot, mpUnder := underRoot(roots, m.MountPoint)
	md, warn, ok := s.decodeMount(m, mpRoot, mpUnder, sysRoot)
	if !ok {
		return sm, warn, false // relative to a cwd we cannot know
	}
	sm.UpperDir, sm.WorkDir, sm.Relative, sm.Branches = md.Upper, md.Work, md.Relative, md.Branches
	sm.LowerDirs = append(append(sm.LowerDirs, md.Lowers...), md.Data...)
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
	if d, p, ok := s.placePath(mp); ok && p.Kind == PathLayerMountpoint && s.decodes(d, sm.FSType) {
		sm.Driver, sm.LayerID, sm.Merged = string(d.Name()), p.ID, true
	} else if d, p, ok := s.placePath(up); ok && p.Kind == PathLayerContent {
		sm.Driver, sm.LayerID = string(d.Name()), p.ID
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
	// A committed (image) layer mounted on its own may be mounted
	// read-only, its own content dir uppermost among the lowers (moby
	// overlay2 Get).
	if d, _ := s.driverNamed(sm.Driver); sm.StoreLowerLayers != nil && sm.UpperDir == "" && d.Terms().ReadOnlyMountIncludesSelf {
		sm.StoreLowerLayers = append([]string{sm.LayerID}, sm.StoreLowerLayers...)
	}
}

// placePath finds the driver whose home a root-relative path ("overlay2/
// <id>/merged") lies in and parses the rest of it.
func (s *Store) placePath(rel string) (Driver, Path, bool) {
	if rel == "" {
		return nil, Path{}, false
	}
	for _, d := range s.drivers() {
		home, err := filepath.Rel(s.Root, d.Home())
		if err != nil {
			continue
		}
		if rest, ok := strings.CutPrefix(rel, home+"/"); ok {
			return d, d.ParsePath(strings.Split(rest, "/")), true
		}
	}
	return nil, Path{}, false
}

// decodes reports whether d decodes mounts of file system type fstype.
func (s *Store) decodes(d Driver, fstype string) bool {
	_, _, ok := d.DecodeMount(mountinfo.Mount{FSType: fstype}, "/", "")
	return ok
}

// lowerLayer is the layer a mounted lower dir is: a short link read as
// text, or a layer's content dir; "" when it is none of the store's.
func (s *Store) lowerLayer(roots []string, dir string) string {
	rel, ok := relToRoot(roots, dir)
	if !ok {
		return ""
	}
	d, p, ok := s.placePath(rel)
	switch {
	case !ok:
		return ""
	case p.Kind == PathShortLink && len(p.Rel) == 0:
		id, _, err := d.ShortLink(p.Link)
		if err != nil {
			return ""
		}
		return id
	case p.Kind == PathLayerContent:
		return p.ID
	}
	return ""
}

// storeLowers reads what the store says layer id's lowers are: overlay2's
// <id>/lower resolved through l/, or aufs/layers/<id>; nil when that
// cannot be read.
func (s *Store) storeLowers(driver, id string) []string {
	out := []string{}
	d, _ := s.driverNamed(driver)
	lowers, _, err := d.Lowers(id)
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

// decodeMount decodes m with the driver whose mounts it is; relative
// overlay forms are resolved against that driver's home under the root
// the mount lies in (when it lies in one: under).
func (s *Store) decodeMount(m mountinfo.Mount, root string, under bool, sysRoot string) (MountDirs, *Finding, bool) {
	for _, d := range s.drivers() {
		home := ""
		if under {
			if rel, err := filepath.Rel(s.Root, d.Home()); err == nil {
				home = filepath.Join(root, rel)
			}
		}
		md, pr, ok := d.DecodeMount(m, home, sysRoot)
		if pr != nil {
			return md, &Finding{Kind: pr.Kind, Message: pr.Message}, true
		}
		if ok {
			return md, nil, true
		}
	}
	return MountDirs{}, nil, false
}

// LiveMounts lists the overlay and aufs mounts of tables as explain and
// whose compare them with a container's rw layer: relative overlay forms
// resolved against the store's overlay2 dir, aufs branches read from
// sysfs under sysRoot when mountinfo shows only si=. A mount whose options
// do not parse is a finding (mountinfo_malformed) naming its table line.
func (s *Store) LiveMounts(tables []mountinfo.Table, sysRoot string) (mounts []LiveMount, finds []Finding) {
	for _, t := range tables {
		for _, m := range t.Mounts {
			md, warn, ok := s.decodeMount(m, s.Root, true, sysRoot)
			if !ok {
				continue
			}
			if warn != nil && warn.Kind == "mount_options_malformed" {
				finds = append(finds, Finding{Kind: "mountinfo_malformed", Path: fmt.Sprintf("%s:%d", t.Path, m.Line), Message: warn.Message})
				continue
			}
			lm := LiveMount{MountPoint: m.MountPoint, UpperDir: md.Upper, WorkDir: md.Work, LowerDirs: md.Lowers, Options: m.SuperOptionsRaw}
			mounts = append(mounts, lm)
		}
	}
	return mounts, finds
}
