package du

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
)

// owner charges a layer entry of the driver's dirs: a layer, a
// container's rw or init layer, build cache, or nothing.
func (p *plan) owner(e *entry) {
	n := e.name
	switch {
	case p.m.byCache[n] != nil:
		e.kind, e.layer = ownLayer, p.m.byCache[n]
	case p.m.byMount[n] != nil:
		e.kind, e.ctr = ownRW, p.m.byMount[n]
	case p.m.byInit[n] != nil:
		e.kind, e.ctr = ownInit, p.m.byInit[n]
	case p.bk[n]:
		e.kind, e.why = ownBuildCache, "BuildKit snapshot (buildkit/snapshots.db)"
	case p.recorded(e):
	case p.stackedOn(n) != "":
		e.kind, e.why = ownUnaccounted, inspect.StackedReason(p.stackedOn(n))
	case p.mountedIn(e) != "":
		e.kind, e.why = ownUnaccounted, "no record names it, but the live mount at "+p.mountedIn(e)+" uses a dir in it: it is in use; deleting it breaks that mount"
	case p.m.unreadableLayers > 0:
		e.kind, e.why = ownUnaccounted, p.orphanWhy(p.path(e), n)+fmt.Sprintf("; but %d layerdb entr%s could not be read, and this may be the dir of one of them: not reclaimable until dlayer verify is clean",
			p.m.unreadableLayers, map[bool]string{true: "y", false: "ies"}[p.m.unreadableLayers == 1])
	default:
		e.kind, e.why = ownOrphan, p.orphanWhy(p.path(e), n)
	}
}

// recorded charges layer entry e as the store's own records of its layer
// dirs say (backend.DirRecords), when they name it; false leaves it to
// the other rules.
func (p *plan) recorded(e *entry) bool {
	dr, ok := p.s.DirRecords()
	if !ok {
		return false
	}
	rec := dr.DirRecord(e.name)
	switch rec.Role {
	case backend.DirBuildCache:
		e.kind, e.why = ownBuildCache, "BuildKit's build cache: "+rec.What
	case backend.DirForeign:
		e.kind, e.why = ownOther, rec.What+": another tenant of the store owns it; not counted as Docker's, never reclaimable"
	case backend.DirRecorded:
		if by, ref, ok := p.s.UnownedLower(e.name); ok {
			e.kind, e.why = ownStack, inspect.UnownedReason(by, ref)
			return true
		}
		if by := p.stackedOn(e.name); by != "" {
			e.kind, e.why = ownUnaccounted, rec.What+"; "+inspect.StackedReason(by)
			return true
		}
		e.kind, e.why = ownUnaccounted, "the store records it ("+rec.What+"), but no image layer, container or build names it: not reclaimable until dlayer verify is clean"
	default:
		return false
	}
	return true
}

// mountedIn is the mount point of a live mount whose upper, work or lower
// dir lies in layer entry e; "" when none does.
func (p *plan) mountedIn(e *entry) string {
	dir := filepath.Clean(p.path(e))
	in := func(d string) bool { return d != "" && below(d, dir) }
	for _, m := range p.mounts {
		if in(m.UpperDir) || in(m.WorkDir) || slices.ContainsFunc(m.LowerDirs, in) {
			return m.MountPoint
		}
	}
	return ""
}

// stackedOn is the layer dir whose lower list names n; "" when none.
func (p *plan) stackedOn(n string) string {
	by, _ := p.s.StackedOn(n)
	return by
}

// classify charges every top-level name to an owner and makes the units.
func (p *plan) classify(names map[where][]string) {
	s := p.s
	for _, pd := range p.dirs {
		if pd.content() {
			for _, n := range names[pd.at] {
				p.driverNames[n] = true
			}
		}
	}
	var es []*entry
	// the content dir's entries first, then the driver's other layer
	// entries, then the rest of its home: within one kind of owner, the
	// earlier tree is charged a hardlinked inode
	for _, pass := range []func(parentDir) bool{
		parentDir.content,
		func(pd parentDir) bool { return pd.layers != nil && !pd.layers.Content },
		func(pd parentDir) bool { return pd.layers == nil && pd.at == inHome },
	} {
		for _, pd := range p.dirs {
			if pass(pd) {
				es = append(es, p.driverEntries(pd, names[pd.at])...)
			}
		}
	}
	es = append(es, p.containerEntries(names[inContainers])...)
	es = append(es, p.rootEntries(names[inRoot])...)
	for _, pd := range p.dirs {
		if pd.tree || pd.lead {
			es = append(es, p.treeEntries(pd, names[pd.at])...)
		}
	}
	// Image layers base first: a hardlinked inode is charged to the
	// earliest unit holding it, and an inode that layers share (the legacy
	// overlay driver hardlinks every unchanged file into each child's
	// tree) is then charged to the layer it came from, the one nearest the
	// base, which keeps it as long as any image above it lives.
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].kind != es[j].kind {
			return es[i].kind < es[j].kind
		}
		return es[i].kind == ownLayer && depth(p.m, es[i].layer) < depth(p.m, es[j].layer)
	})
	t := s.Graph().Terms()
	for _, e := range es {
		mode, sub := p.modeOf(e)
		e.unit = p.add(p.path(e), mode, sub, e.kind == ownContainerDir)
		rule := t.LayerSize
		if e.kind == ownRW || e.kind == ownInit {
			rule = t.RWSize
		}
		p.units[e.unit].usage = mode == sizeSub && rule == backend.SizeUsage
	}
	p.entries = es
	for _, pd := range p.dirs {
		p.selfs[pd.at] = p.add(pd.path, sizeNone, "", false)
	}
	p.selfs[inRoot] = p.add(s.Root, sizeNone, "", false)
}

// driverEntries charges the entries of the driver's dir pd: the driver's
// bookkeeping (its own entries of the home), layer entries, and orphans.
func (p *plan) driverEntries(pd parentDir, names []string) []*entry {
	g := p.s.Graph()
	var es []*entry
	for _, n := range names {
		e := &entry{parent: pd.at, name: n}
		if pd.at == inHome {
			if why, ok := g.Bookkeeping(n); ok {
				if p.isParent(n) {
					continue // one of the dirs of layer entries: walked apart
				}
				e.kind, e.why = ownBookkeeping, why
				es = append(es, e)
				continue
			}
		}
		switch {
		case pd.layers == nil:
			e.kind, e.why = ownOrphan, "not part of the "+p.s.Driver+" driver's layout ("+p.layerDirList()+")"
		case pd.layers.Content:
			p.driverNames[n] = true
			p.owner(e)
		default:
			p.owner(e)
			if e.kind == ownBuildCache {
				e.kind, e.why = ownOrphan, "names a BuildKit snapshot, which "+p.s.Driver+" never has"
			}
		}
		es = append(es, e)
	}
	return es
}

// isParent reports whether the home's entry name is one of the dirs of
// layer entries.
func (p *plan) isParent(name string) bool { return p.isParentIn(inHome, name) }

// isParentIn reports whether entry name of the dir at is itself a parent
// dir, walked apart.
func (p *plan) isParentIn(at where, name string) bool {
	for _, pd := range p.dirs {
		if pd.in == at && pd.name == name {
			return true
		}
	}
	return false
}

// treeEntries charges the entries of a dir of the store's tree as the
// store says (backend.StoreTree.Charge), and those of a data root dir on
// the way to it as other parts of the data root.
func (p *plan) treeEntries(pd parentDir, names []string) []*entry {
	st, _ := p.s.StoreTree()
	var es []*entry
	for _, n := range names {
		if p.isParentIn(pd.at, n) {
			continue
		}
		e := &entry{parent: pd.at, name: n, kind: ownOther}
		if pd.tree && st != nil {
			c := st.Charge(pd.treeRel, n)
			e.charge, e.why = &c, c.Why
			switch c.Role {
			case backend.TreeBlob:
				e.kind = ownBlob
			case backend.TreeHeld:
				e.kind = ownHeld
			case backend.TreeIngest:
				e.kind = ownIngest
			case backend.TreeOrphan:
				e.kind = ownOrphan
			}
		}
		es = append(es, e)
	}
	return es
}

// layerDirList names the dirs of layer entries below the home: "diff/,
// layers/, mnt/".
func (p *plan) layerDirList() string {
	var out []string
	for _, pd := range p.dirs {
		if pd.in == inHome {
			out = append(out, pd.name+"/")
		}
	}
	return strings.Join(out, ", ")
}

// containerEntries charges the entries of containers/.
func (p *plan) containerEntries(names []string) []*entry {
	byID := map[string]*Container{}
	for _, c := range p.m.containers {
		byID[c.ID] = c
	}
	var es []*entry
	for _, n := range names {
		e := &entry{parent: inContainers, name: n, kind: ownContainerDir, ctr: byID[n]}
		switch {
		case e.ctr != nil:
		case p.m.otherDriver[n] != "":
			e.kind, e.why = ownInactive, "the container dir of "+p.m.otherDriver[n]+" container "+shortID(n)+" (audit it with --driver "+p.m.otherDriver[n]+")"
		default:
			e.kind, e.why = ownOther, "a dir under containers/ with no readable config.v2.json"
			if strings.HasSuffix(n, "-removing") {
				e.why = "left by an interrupted container removal"
			}
			p.m.find(KindContainerDirUnknown, p.s.Path("containers", n), "%s", e.why)
		}
		es = append(es, e)
	}
	return es
}

// rootEntries charges the other entries of the data root: the homes of
// the other drivers whose stores the root holds, and the rest.
func (p *plan) rootEntries(names []string) []*entry {
	s := p.s
	others := map[string]*inspect.Store{} // home's name → its store
	for _, o := range s.Others {
		if sib, ok := s.Sibling(backend.Name(o)); ok {
			others[filepath.Base(sib.Graph().Home())] = sib
		}
	}
	var es []*entry
	for _, n := range names {
		if p.isParentIn(inRoot, n) {
			continue
		}
		e := &entry{parent: inRoot, name: n, kind: ownOther, why: dataRootWhy(n)}
		if sib := others[n]; sib != nil {
			meta, _ := filepath.Rel(s.Root, sib.ImagePath())
			e.kind, e.why = ownInactive, "the "+sib.Driver+" driver's layer dirs: this root also holds "+meta+
				" (a host migrated between drivers); audit them with --driver "+sib.Driver
		}
		es = append(es, e)
	}
	return es
}

// orphanWhy says why nothing owns the layer dir name at dir, and what it
// looks like (the reasons whose gives too).
func (p *plan) orphanWhy(dir, name string) string {
	return p.s.OrphanReason(dir, name, func(mountID string) string {
		if c := p.m.byMount[mountID]; c != nil {
			return c.ID
		}
		return ""
	})
}

// depth is a layer's place in its chain: 1 for a base layer.
func depth(m *meta, l *Layer) int {
	n := 1
	for top := l.Parent; top != "" && n < maxChain; n++ {
		pl := m.layers[top]
		if pl == nil {
			break
		}
		top = pl.Parent
	}
	return n
}

// dataRootWhy says what a top-level entry of Docker's data root is (the
// same for every driver); "" for one Docker does not make.
func dataRootWhy(name string) string {
	return map[string]string{
		"image":      "the image store's metadata (layerdb, imagedb, repositories.json; on the containerd store only identity-cache.db)",
		"buildkit":   "BuildKit's metadata: its cache records and build history",
		"volumes":    "named volumes (docker volume) and their metadata.db",
		"network":    "the networks' state (local-kv.db)",
		"plugins":    "managed plugins",
		"runtimes":   "files of the configured OCI runtimes",
		"swarm":      "swarm mode state",
		"tmp":        "the daemon's temporary files",
		"trust":      "content trust keys",
		"engine-id":  "the engine's ID",
		"rootfs":     "the mount points of running containers' root file systems (containerd store)",
		"containerd": "the state of the containerd dockerd started itself",
		"exec-root":  "the daemon's exec root",
	}[name]
}
