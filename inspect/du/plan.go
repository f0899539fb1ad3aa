package du

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect"
)

// ownerKind is who a walked tree is charged to. The order is precedence:
// an inode with names in two trees is charged to the earlier kind.
type ownerKind uint8

const (
	ownLayer ownerKind = iota
	ownRW
	ownInit
	ownBuildCache
	ownBookkeeping
	ownContainerDir
	ownOther
	ownOrphan
)

// where is the directory a top-level tree sits in.
type where uint8

const (
	inRoot where = iota
	inOverlay
	inContainers
)

// entry is one top-level tree to walk.
type entry struct {
	parent where
	name   string
	kind   ownerKind
	unit   int32
	why    string
	layer  *Layer
	ctr    *Container
}

// plan maps every top-level tree to a unit of the walk and back.
type plan struct {
	r       *Report
	m       *meta
	bk      map[string]bool
	units   []*unit
	entries []*entry
	// units charged with a directory itself only
	ovSelf, ctSelf, rootSelf int32
	overlayNames             map[string]bool
}

func newPlan(r *Report, m *meta, bk map[string]bool) *plan {
	return &plan{r: r, m: m, bk: bk, overlayNames: map[string]bool{}}
}

// classify decides the owner of every name under overlay2/, containers/
// and the data root, and numbers the units by precedence.
func (p *plan) classify(s *inspect.Store, ovNames, ctNames, rootNames []string) {
	var es []*entry
	for _, n := range ovNames {
		p.overlayNames[n] = true
		e := &entry{parent: inOverlay, name: n}
		switch {
		case s.DriverBookkeeping(n) != "": // l/, backingFsBlockDev
			e.kind, e.why = ownBookkeeping, s.DriverBookkeeping(n)
		case p.m.byCache[n] != nil:
			e.kind, e.layer = ownLayer, p.m.byCache[n]
		case p.m.byMount[n] != nil:
			e.kind, e.ctr = ownRW, p.m.byMount[n]
		case p.m.byInit[n] != nil:
			e.kind, e.ctr = ownInit, p.m.byInit[n]
		case p.bk[n]:
			e.kind, e.why = ownBuildCache, "BuildKit snapshot (buildkit/snapshots.db)"
		default:
			e.kind, e.why = ownOrphan, s.OrphanReason(n, p.mountOwner)
		}
		es = append(es, e)
	}
	byID := map[string]*Container{}
	for _, c := range p.m.containers {
		byID[c.ID] = c
	}
	for _, n := range ctNames {
		e := &entry{parent: inContainers, name: n, kind: ownContainerDir, ctr: byID[n]}
		if e.ctr == nil {
			e.kind, e.why = ownOther, "a dir under containers/ with no readable config.v2.json"
			if strings.HasSuffix(n, "-removing") {
				e.why = "left by an interrupted container removal"
			}
			p.m.find("container_dir_unknown", s.Path("containers", n), "%s", e.why)
		}
		es = append(es, e)
	}
	for _, n := range rootNames {
		if n == "overlay2" || n == "containers" {
			continue
		}
		es = append(es, &entry{parent: inRoot, name: n, kind: ownOther})
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].kind < es[j].kind })
	for _, e := range es {
		e.unit = p.add(e.path(p.r, s), modeOf(e.kind), e.kind == ownContainerDir)
	}
	p.entries = es
	p.ovSelf = p.add(p.r.DriverDir, sizeNone, false)
	p.ctSelf = p.add(s.Path("containers"), sizeNone, false)
	p.rootSelf = p.add(s.Root, sizeNone, false)
}

func modeOf(k ownerKind) sizeMode {
	switch k {
	case ownLayer, ownRW, ownInit, ownBuildCache:
		return sizeDiff
	}
	return sizeAll
}

func (e *entry) path(r *Report, s *inspect.Store) string {
	switch e.parent {
	case inOverlay:
		return filepath.Join(r.DriverDir, e.name)
	case inContainers:
		return s.Path("containers", e.name)
	}
	return s.Path(e.name)
}

func (p *plan) add(path string, mode sizeMode, logs bool) int32 {
	p.units = append(p.units, &unit{path: path, mode: mode, logs: logs})
	return int32(len(p.units) - 1)
}

// mountOwner returns the ID of the container whose rw layer is mountID,
// or "" (for inspect.Store.OrphanReason).
func (p *plan) mountOwner(mountID string) string {
	if c := p.m.byMount[mountID]; c != nil {
		return c.ID
	}
	return ""
}

// collect copies the walk's numbers into the report.
func (p *plan) collect(w *walker) {
	r := p.r
	for _, e := range p.entries {
		u := p.units[e.unit]
		use := Usage{Size: u.size.Load(), DiskUsage: u.disk.Load()}
		switch e.kind {
		case ownLayer:
			e.layer.MeasuredSize, e.layer.DiskUsage, e.layer.Files = use.Size, use.DiskUsage, u.files.Load()
			if p.bk[e.name] {
				e.layer.BuildCache = true
			}
		case ownRW:
			e.ctr.SizeRw, e.ctr.DiskUsage = use.Size, use.DiskUsage
		case ownInit:
			e.ctr.InitSize, e.ctr.InitDiskUsage = use.Size, use.DiskUsage
		case ownContainerDir:
			e.ctr.DirUsage = use
			e.ctr.LogUsage = Usage{Size: u.logSize.Load(), DiskUsage: u.logDisk.Load()}
			e.ctr.LogFiles = u.logFiles.Load()
		default:
			d := Dir{Name: e.name, Path: u.path, Usage: use, Files: u.files.Load(), Why: e.why}
			switch e.kind {
			case ownBuildCache:
				r.BuildCache = append(r.BuildCache, d)
			case ownBookkeeping:
				r.Bookkeeping = append(r.Bookkeeping, d)
			case ownOrphan:
				if fi, err := os.Lstat(u.path); err == nil {
					d.Modified = fi.ModTime().UTC()
				}
				r.Orphans = append(r.Orphans, d)
			default:
				r.Other = append(r.Other, d)
			}
		}
	}
	self := func(u int32, name, why string) Dir {
		return Dir{Name: name, Path: p.units[u].path, Usage: Usage{DiskUsage: p.units[u].disk.Load()}, Why: why}
	}
	r.Bookkeeping = append(r.Bookkeeping, self(p.ovSelf, ".", "the driver dir itself"))
	r.Other = append(r.Other, self(p.ctSelf, "containers/.", "the containers dir itself"), self(p.rootSelf, ".", "the data root dir itself"))
	for _, e := range w.errs {
		p.m.find("unreadable", e.path, "%v: its tree is not fully counted", e.err)
	}
	r.Mounts = append(r.Mounts, w.mounts...)
	for _, u := range p.units {
		r.Summary.Files += u.files.Load() + u.dirs.Load()
	}
	r.Summary.SparseFiles, r.Summary.SparseBytes = w.sparse.Load(), w.sparseBytes.Load()
	r.Summary.HardlinkedInodes, r.Summary.ExtraLinks = w.links.count.Load(), w.links.extra.Load()
}
