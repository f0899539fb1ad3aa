package du

import (
	"os"
	"path/filepath"
	"slices"
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
	ownInactive
	ownOrphan
)

// where is the directory a top-level tree sits in.
type where uint8

const (
	inRoot where = iota
	inContainers
	// inDriver holds one content dir per layer: overlay2/, aufs/diff/.
	inDriver
	// inAUFS is aufs/ itself; inAUFSLayers and inAUFSMnt hold the other
	// two files of each aufs layer.
	inAUFS
	inAUFSLayers
	inAUFSMnt
)

// parentDir is a directory whose entries are top-level trees: opened
// below the dir at in, as name.
type parentDir struct {
	at, in where
	name   string
	rel    string // from the data root, for messages
}

// parentDirs are the dirs opened for driver, parents first.
func parentDirs(driver string) []parentDir {
	if driver == "aufs" {
		return []parentDir{
			{inAUFS, inRoot, "aufs", "aufs"},
			{inDriver, inAUFS, "diff", "aufs/diff"},
			{inAUFSLayers, inAUFS, "layers", "aufs/layers"},
			{inAUFSMnt, inAUFS, "mnt", "aufs/mnt"},
			{inContainers, inRoot, "containers", "containers"},
		}
	}
	return []parentDir{{inDriver, inRoot, driver, driver}, {inContainers, inRoot, "containers", "containers"}}
}

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

// plan is the list of units and entries to walk, made from the names
// under the data root, the driver dir and containers/.
type plan struct {
	r       *Report
	m       *meta
	bk      map[string]bool
	units   []*unit
	entries []*entry
	// selfs are the units of the parent dirs' own inodes.
	selfs map[where]int32
	// driverNames are the names in the driver's content dir.
	driverNames map[string]bool
	s           *inspect.Store
}

func newPlan(r *Report, m *meta, bk map[string]bool) *plan {
	return &plan{r: r, m: m, bk: bk, driverNames: map[string]bool{}, selfs: map[where]int32{}}
}

// owner charges a name of the driver's dirs: a layer, a container's rw or
// init layer, build cache, or nothing.
func (p *plan) owner(e *entry, layout func(string) string) {
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
	default:
		e.kind, e.why = ownOrphan, p.orphanWhy(layout(n), n)
	}
}

// classify charges every top-level name to an owner and makes the units.
func (p *plan) classify(s *inspect.Store, names map[where][]string) {
	p.s = s
	var es []*entry
	content := func(id string) string { return s.Graph().Layout(id).Dir }
	for _, n := range names[inDriver] {
		p.driverNames[n] = true
		e := &entry{parent: inDriver, name: n}
		switch why, ok := s.Graph().Bookkeeping(n); {
		case ok && s.Graph().Terms().ShortLinks:
			e.kind, e.why = ownBookkeeping, why
		default:
			p.owner(e, content)
		}
		es = append(es, e)
	}
	for _, at := range []where{inAUFSLayers, inAUFSMnt} {
		for _, n := range names[at] {
			e := &entry{parent: at, name: n}
			p.owner(e, func(id string) string { return filepath.Join(s.Graph().Home(), p.rel(at), id) })
			if e.kind == ownBuildCache {
				e.kind, e.why = ownOrphan, "names a BuildKit snapshot, which aufs never has"
			}
			es = append(es, e)
		}
	}
	for _, n := range names[inAUFS] {
		if n != "diff" && n != "layers" && n != "mnt" {
			es = append(es, &entry{parent: inAUFS, name: n, kind: ownOrphan, why: "not part of the aufs driver's layout (diff/, layers/, mnt/)"})
		}
	}
	byID := map[string]*Container{}
	for _, c := range p.m.containers {
		byID[c.ID] = c
	}
	for _, n := range names[inContainers] {
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
			p.m.find("container_dir_unknown", s.Path("containers", n), "%s", e.why)
		}
		es = append(es, e)
	}
	home := filepath.Base(s.Graph().Home())
	for _, n := range names[inRoot] {
		if n == home || n == "containers" {
			continue
		}
		e := &entry{parent: inRoot, name: n, kind: ownOther}
		if slices.Contains(s.Others, n) {
			e.kind, e.why = ownInactive, "the "+n+" driver's layer dirs: this root also holds image/"+n+" (a host migrated between drivers); audit them with --driver "+n
		}
		es = append(es, e)
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].kind < es[j].kind })
	for _, e := range es {
		e.unit = p.add(e.path(p.r, s), p.modeOf(s, e), e.kind == ownContainerDir)
	}
	p.entries = es
	for _, pd := range parentDirs(s.Driver) {
		p.selfs[pd.at] = p.add(s.Path(pd.rel), sizeNone, false)
	}
	p.selfs[inRoot] = p.add(s.Root, sizeNone, false)
}

// rel is the path of a parent dir below the driver home.
func (p *plan) rel(at where) string {
	switch at {
	case inAUFSLayers:
		return "layers"
	case inAUFSMnt:
		return "mnt"
	case inAUFS:
		return ""
	}
	return "diff"
}

// modeOf says what of an entry counts toward Docker's size: a layer's
// content (overlay2: <id>/diff; aufs: all of diff/<id>), nothing for aufs's
// layers and mnt entries, everything for the rest.
func (p *plan) modeOf(s *inspect.Store, e *entry) sizeMode {
	switch {
	case e.parent == inAUFSLayers || e.parent == inAUFSMnt:
		return sizeNone
	case e.kind != ownLayer && e.kind != ownRW && e.kind != ownInit && e.kind != ownBuildCache:
		return sizeAll
	case s.Driver == "aufs":
		return sizeAll
	}
	return sizeDiff
}

func (e *entry) path(r *Report, s *inspect.Store) string {
	for _, pd := range parentDirs(s.Driver) {
		if pd.at == e.parent {
			return s.Path(pd.rel, e.name)
		}
	}
	return s.Path(e.name)
}

// display is how the entry is named in lists: its path below the driver
// home for the driver's dirs, below the data root for the rest.
func (e *entry) display(s *inspect.Store) string {
	for _, pd := range parentDirs(s.Driver) {
		if pd.at == e.parent && pd.at != inContainers {
			if rel, ok := strings.CutPrefix(pd.rel, filepath.Base(s.Graph().Home())+"/"); ok {
				return rel + "/" + e.name
			}
			return e.name
		}
	}
	if e.parent == inContainers {
		return "containers/" + e.name
	}
	return e.name
}

func (p *plan) add(path string, mode sizeMode, logs bool) int32 {
	p.units = append(p.units, &unit{path: path, mode: mode, logs: logs})
	return int32(len(p.units) - 1)
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

// collect copies the walk's numbers into the report.
func (p *plan) collect(w *walker) {
	r := p.r
	for _, e := range p.entries {
		u := p.units[e.unit]
		use := Usage{Size: u.size.Load(), DiskUsage: u.disk.Load()}
		// aufs's layers/<id> and mnt/<id> add to their owner's disk usage;
		// the content dir gives the size.
		content := e.parent == inDriver
		switch e.kind {
		case ownLayer:
			e.layer.DiskUsage += use.DiskUsage
			e.layer.Files += u.files.Load()
			if content {
				e.layer.MeasuredSize = use.Size
			}
			if p.bk[e.name] {
				e.layer.BuildCache = true
			}
		case ownRW:
			e.ctr.DiskUsage += use.DiskUsage
			if content {
				e.ctr.SizeRw = use.Size
			}
		case ownInit:
			e.ctr.InitDiskUsage += use.DiskUsage
			if content {
				e.ctr.InitSize = use.Size
			}
		case ownContainerDir:
			e.ctr.DirUsage = use
			e.ctr.LogUsage = Usage{Size: u.logSize.Load(), DiskUsage: u.logDisk.Load()}
			e.ctr.LogFiles = u.logFiles.Load()
		default:
			d := Dir{Name: e.display(p.s), Path: u.path, Usage: use, Files: u.files.Load(), Why: e.why}
			switch e.kind {
			case ownInactive:
				r.InactiveDriver = append(r.InactiveDriver, d)
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
	for _, pd := range parentDirs(p.s.Driver) {
		u, ok := p.selfs[pd.at]
		switch {
		case !ok:
		case pd.at == inContainers:
			r.Other = append(r.Other, self(u, "containers/.", "the containers dir itself"))
		case pd.at == inDriver && pd.in == inRoot, pd.at == inAUFS:
			r.Bookkeeping = append(r.Bookkeeping, self(u, ".", "the driver dir itself"))
		default:
			r.Bookkeeping = append(r.Bookkeeping, self(u, pd.name+"/.", "the "+pd.rel+" dir itself"))
		}
	}
	r.Other = append(r.Other, self(p.selfs[inRoot], ".", "the data root dir itself"))
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
