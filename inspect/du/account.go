package du

import (
	"sort"

	"github.com/dlayer/dlayer/inspect"

	"github.com/opencontainers/go-digest"
)

// finishAccounting derives Docker's image and container numbers from the
// layer sizes, fills the summary and sorts every list biggest first.
func finishAccounting(r *Report, m *meta, p *plan) {
	shareLayers(m)
	for _, ct := range m.containers {
		ct.SizeRootFs = ct.SizeRw + chainSize(m, m.mountParent[ct.ID])
	}
	engineSizes(p.s, m)
	for _, im := range m.images {
		for _, c := range im.Layers {
			if l := m.layers[c]; l != nil {
				im.DiskUsage += l.DiskUsage
				if len(l.Images) == 1 {
					im.UniqueDiskUsage += l.DiskUsage
				}
			}
		}
	}
	summarize(r, m)
	sortAll(r, m)
}

// shareLayers derives from the metadata alone which images and containers
// use each layer, and each image's Size, SharedSize and UniqueSize as
// /system/df computes them.
func shareLayers(m *meta) {
	counted := map[digest.Digest]int{} // chain → counted images using it
	m.counted = counted
	for _, im := range m.images {
		for _, c := range im.Layers {
			if l := m.layers[c]; l != nil {
				l.Images = append(l.Images, im.ID)
				if im.Counted {
					counted[c]++
				}
			}
		}
	}
	for _, ct := range m.containers {
		for _, im := range m.images {
			if im.ID == ct.ImageID {
				im.Containers++
			}
		}
		for top, n := m.mountParent[ct.ID], 0; top != "" && n < maxChain; n++ {
			l := m.layers[top]
			if l == nil {
				break
			}
			l.Containers++
			top = l.Parent
		}
	}
	for _, l := range m.layers {
		l.Refcount = len(l.Images)
		l.Shared = counted[l.ChainID] > 1
		if l.Images == nil {
			l.Images = []digest.Digest{}
		}
	}
	for _, im := range m.images {
		for _, c := range im.Layers {
			l := m.layers[c]
			if l == nil {
				continue
			}
			im.Size += l.Size
			if counted[c] > 1 {
				im.SharedSize += l.Size
			}
		}
		im.UniqueSize = im.Size - im.SharedSize
	}
}

// engineSizes applies the store's own rules for Docker's image and
// container numbers (backend.EngineSizes: on containerd's store an
// image's Size holds its content blobs and every snapshot of its stack,
// a container's SizeRootFs the snapshots below it), so that they equal
// what this store's engine reports. The walk's SizeRw stands (it is
// measured by the same rule); only the part below it is taken.
func engineSizes(s *inspect.Store, m *meta) {
	es, ok := s.EngineSizes()
	if !ok {
		return
	}
	rep, err := es.EngineSizes(false) // the walk measured SizeRw already
	if err != nil {
		m.find(KindUnreadable, s.Graph().Metadata().Path(), "%v: Docker's image and container sizes are not computed", err)
		return
	}
	m.engineLayersSize = &rep.LayersSize
	for _, im := range m.images {
		if x, ok := rep.Images[im.ID]; ok {
			im.Size, im.SharedSize, im.UniqueSize = x.Size, x.SharedSize, x.Size-x.SharedSize
		}
	}
	for _, ct := range m.containers {
		x, ok := rep.Containers[ct.ID]
		switch {
		case !ok:
		case x.Err != nil:
			m.find(KindUnreadable, ct.Dir, "%v: its SizeRootFs is not computed", x.Err)
		default:
			ct.SizeRootFs = ct.SizeRw + x.Below
		}
	}
}

// stopped reports whether `docker container prune` would remove a
// container in this state.
func stopped(state string) bool {
	return state == "exited" || state == "created" || state == "dead"
}

// Stopped reports whether `docker container prune` would remove the
// container: it is exited, created or dead.
func (c Container) Stopped() bool { return stopped(c.State) }

// summarize fills r.Summary: one group per kind of owner, totals, and
// what removing stopped containers, dangling images and orphans frees.
func summarize(r *Report, m *meta) {
	s := &r.Summary
	for _, l := range m.layers {
		// Size as docker system df's LayersSize: layers of counted images
		// (those of intermediate images are in their children's chains).
		// Disk usage of every layer dir, so that overlay2/ adds up.
		if m.counted[l.ChainID] > 0 {
			s.Images.Size += l.Size
		}
		s.Images.DiskUsage += l.DiskUsage
	}
	inUse := map[digest.Digest]bool{}
	for _, ct := range m.containers {
		c := &s.Containers
		c.Count++
		c.Size += ct.SizeRw
		c.DiskUsage += ct.DiskUsage + ct.InitDiskUsage
		if ct.DirUsage != (Usage{}) || ct.LogFiles > 0 {
			s.ContainerDirs.Count++
		}
		s.ContainerDirs.Usage = s.ContainerDirs.Usage.Add(ct.DirUsage)
		if stopped(ct.State) {
			c.Reclaimable = c.Reclaimable.Add(Usage{Size: ct.SizeRw, DiskUsage: ct.DiskUsage + ct.InitDiskUsage})
			s.ContainerDirs.Reclaimable = s.ContainerDirs.Reclaimable.Add(ct.DirUsage)
			continue
		}
		c.Active++
		inUse[ct.ImageID] = true
	}
	// counted as docker system df does: the images it lists, and those of
	// them that some container uses
	for _, im := range m.images {
		if im.Counted {
			s.Images.Count++
			if im.Containers > 0 {
				s.Images.Active++
			}
		}
	}
	if m.engineLayersSize != nil { // the store's engine totals images by its own rule
		s.Images.Size = *m.engineLayersSize
	}
	s.Images.Reclaimable = danglingReclaim(m, inUse)
	s.BuildCache.addDirs(r.BuildCache)
	s.Orphans.addDirs(r.Orphans)
	s.Orphans.Reclaimable = s.Orphans.Usage
	s.Bookkeeping.addDirs(r.Bookkeeping)
	s.Other.addDirs(r.Other)
	s.InactiveDriver.addDirs(r.InactiveDriver)
	s.Ingest.addDirs(r.Ingest)
	s.StackDirs.addDirs(r.StackDirs)
	for _, b := range r.Blobs {
		s.Content.Count++
		s.Content.Usage = s.Content.Usage.Add(b.Usage)
		if len(b.Images) > 0 {
			s.Content.Active++
		}
	}
	s.Reclaimable = s.Images.Reclaimable.Add(s.Containers.Reclaimable).Add(s.ContainerDirs.Reclaimable).Add(s.Orphans.Reclaimable)
}

// danglingReclaim is what removing dangling images frees once stopped
// containers are gone: `docker image prune` removes untagged images
// without children that no container uses, and with them their untagged
// parents that are left without children. A layer is freed when every
// image using it is removed.
func danglingReclaim(m *meta, inUse map[digest.Digest]bool) Usage {
	removed := map[digest.Digest]bool{}
	for changed := true; changed; {
		changed = false
		kids := map[digest.Digest]int{}
		for _, im := range m.images {
			if !removed[im.ID] && im.Parent != "" {
				kids[im.Parent]++
			}
		}
		for _, im := range m.images {
			if !removed[im.ID] && len(im.Tags) == 0 && kids[im.ID] == 0 && !inUse[im.ID] {
				removed[im.ID] = true
				changed = true
			}
		}
	}
	var u Usage
	for _, l := range m.layers {
		if len(l.Images) == 0 || l.Containers > 0 && anyRunning(m, l) {
			continue
		}
		all := true
		for _, id := range l.Images {
			all = all && removed[id]
		}
		if all {
			u = u.Add(Usage{Size: l.Size, DiskUsage: l.DiskUsage})
		}
	}
	return u
}

// anyRunning reports whether a container that is not stopped sits on l.
func anyRunning(m *meta, l *Layer) bool {
	for _, ct := range m.containers {
		if !stopped(ct.State) && chainHas(m, m.mountParent[ct.ID], l.ChainID) {
			return true
		}
	}
	return false
}

// sortAll orders every list biggest disk usage first, then by name, and
// turns the maps of meta into the report's slices.
func sortAll(r *Report, m *meta) {
	for _, c := range m.layerOrder {
		r.Layers = append(r.Layers, *m.layers[c])
	}
	for _, im := range m.images {
		r.Images = append(r.Images, *im)
	}
	for _, ct := range m.containers {
		r.Containers = append(r.Containers, *ct)
	}
	sort.SliceStable(r.Layers, func(i, j int) bool {
		a, b := r.Layers[i], r.Layers[j]
		return a.DiskUsage > b.DiskUsage || a.DiskUsage == b.DiskUsage && a.ChainID < b.ChainID
	})
	sort.SliceStable(r.Images, func(i, j int) bool {
		a, b := r.Images[i], r.Images[j]
		return a.Size > b.Size || a.Size == b.Size && a.ID < b.ID
	})
	sort.SliceStable(r.Containers, func(i, j int) bool {
		a, b := r.Containers[i], r.Containers[j]
		da, db := a.DiskUsage+a.InitDiskUsage+a.DirUsage.DiskUsage, b.DiskUsage+b.InitDiskUsage+b.DirUsage.DiskUsage
		return da > db || da == db && a.ID < b.ID
	})
	sort.SliceStable(r.Blobs, func(i, j int) bool {
		a, b := r.Blobs[i], r.Blobs[j]
		return a.DiskUsage > b.DiskUsage || a.DiskUsage == b.DiskUsage && a.Digest < b.Digest
	})
	if r.Blobs == nil {
		r.Blobs = []Blob{}
	}
	for _, ds := range [][]Dir{r.BuildCache, r.Orphans, r.Other, r.Ingest, r.StackDirs} {
		sort.SliceStable(ds, func(i, j int) bool {
			return ds[i].DiskUsage > ds[j].DiskUsage || ds[i].DiskUsage == ds[j].DiskUsage && ds[i].Name < ds[j].Name
		})
	}
	for _, p := range []*[]Dir{&r.BuildCache, &r.Orphans, &r.Bookkeeping, &r.Other, &r.InactiveDriver, &r.Ingest, &r.StackDirs} {
		if *p == nil {
			*p = []Dir{}
		}
	}
	if r.Layers == nil {
		r.Layers = []Layer{}
	}
	if r.Images == nil {
		r.Images = []Image{}
	}
	if r.Containers == nil {
		r.Containers = []Container{}
	}
}

// addDirs counts dirs into the group and adds up their usage.
func (g *Group) addDirs(dirs []Dir) {
	for _, d := range dirs {
		g.Count++
		g.Usage = g.Usage.Add(d.Usage)
	}
}
