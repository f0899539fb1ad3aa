package du

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
)

// ownerKind is who a walked tree is charged to. The order is precedence:
// an inode with names in two trees is charged to the earlier kind.
type ownerKind uint8

const (
	ownLayer ownerKind = iota
	ownRW
	ownInit
	ownBuildCache
	// ownStack: a layer dir in image stacks that is no image layer (a
	// classic build container's -init a RUN layer sits on).
	ownStack
	// ownBlob: a content blob an image references; ownHeld one only a
	// lease, another namespace or a gc root keeps.
	ownBlob
	ownHeld
	ownBookkeeping
	ownContainerDir
	ownOther
	// ownIngest: an unfinished write of a blob.
	ownIngest
	ownInactive
	ownOrphan
	// ownUnaccounted: nothing in the metadata owns it, but something that
	// is in use refers to it: never an orphan, never reclaimable.
	ownUnaccounted
)

// String names the kind, for messages and tests.
func (k ownerKind) String() string {
	switch k {
	case ownLayer:
		return "layer"
	case ownRW:
		return "rw"
	case ownInit:
		return "init"
	case ownBuildCache:
		return "build_cache"
	case ownStack:
		return "stack"
	case ownBlob:
		return "blob"
	case ownHeld:
		return "held"
	case ownIngest:
		return "ingest"
	case ownBookkeeping:
		return "bookkeeping"
	case ownContainerDir:
		return "container_dir"
	case ownOther:
		return "other"
	case ownInactive:
		return "inactive_driver"
	case ownOrphan:
		return "orphan"
	case ownUnaccounted:
		return "unaccounted"
	}
	return fmt.Sprintf("ownerKind(%d)", uint8(k))
}

// layerKind reports whether k is a layer dir of the driver: an image
// layer, a container's rw or init layer, a build-cache snapshot.
func (k ownerKind) layerKind() bool {
	return k == ownLayer || k == ownRW || k == ownInit || k == ownBuildCache || k == ownStack
}

// where is the directory a top-level tree sits in: the data root,
// containers/, the driver home, or a dir of the home whose entries are
// layer entries (inLayers+i for the driver's HomeLayout.LayerDirs[i]); for
// a store with a tree of its own (backend.StoreTree), the tree's root, its
// dirs (inTreeDirs+i for Tree.Dirs[i]) and, when the tree lies inside the
// data root, the dirs on the way to it (inLeads+i).
type where uint8

const (
	inRoot where = iota
	inContainers
	inHome
	inLayers
	inTree     where = 64
	inTreeDirs where = 65
	inLeads    where = 128
	// inOwnRoot is the "in" of a dir opened on its own (a tree outside
	// the data root).
	inOwnRoot where = 255
)

// String names the dir, for messages and tests.
func (w where) String() string {
	switch w {
	case inRoot:
		return "root"
	case inContainers:
		return "containers"
	case inHome:
		return "home"
	case inTree:
		return "tree"
	case inOwnRoot:
		return "own"
	}
	switch {
	case w >= inLeads:
		return fmt.Sprintf("leads[%d]", uint8(w-inLeads))
	case w >= inTreeDirs:
		return fmt.Sprintf("tree[%d]", uint8(w-inTreeDirs))
	}
	return fmt.Sprintf("layers[%d]", uint8(w-inLayers))
}

// parentDir is a directory whose entries are top-level trees: opened
// below the dir at in, as name.
type parentDir struct {
	at, in where
	name   string
	rel    string // from the data root (the tree's root for its dirs), for names
	path   string // where it is
	// layers is set when the entries are the driver's layer entries.
	layers *backend.LayerDir
	// tree is set for the dirs of the store's tree, whose entries the
	// store charges (Charge(treeRel, name)); lead for a dir of the data
	// root on the way to a tree inside it.
	tree    bool
	treeRel string
	lead    bool
}

// content reports whether the dir's entries hold the layers' files.
func (pd parentDir) content() bool { return pd.layers != nil && pd.layers.Content }

// parentDirs are the dirs the audit opens, parents first: the driver home
// and its dirs of layer entries (as the driver lays them out), then
// containers/; for a store with a tree of its own, the tree's root and its
// dirs (and, for a tree inside the data root, the dirs on the way to it),
// before the home when the home lies in the tree.
func parentDirs(s *inspect.Store) []parentDir {
	g := s.Graph()
	var out []parentDir
	homeIn, homeRel := inRoot, filepath.Base(g.Home())
	if st, ok := s.StoreTree(); ok {
		t := st.Tree()
		root := filepath.Clean(t.Root)
		out = append(out, treeDirs(s.Root, root, t)...)
		if filepath.Dir(g.Home()) == root {
			homeIn = inTree
		}
	}
	home := parentDir{at: inHome, in: homeIn, name: filepath.Base(g.Home()), rel: homeRel, path: g.Home()}
	var layers []parentDir
	for i, ld := range g.HomeLayout().LayerDirs {
		if ld.Rel == "" {
			home.layers = &ld
			continue
		}
		layers = append(layers, parentDir{at: inLayers + where(i), in: inHome, name: ld.Rel, rel: homeRel + "/" + ld.Rel,
			path: filepath.Join(g.Home(), ld.Rel), layers: &ld})
	}
	out = append(out, home)
	out = append(out, layers...)
	return append(out, parentDir{at: inContainers, in: inRoot, name: "containers", rel: "containers", path: s.Path("containers")})
}

// treeDirs are the parent dirs of a store's tree t rooted at root: the
// data root's dirs on the way to it when it lies inside the data root
// (else it is opened on its own), its root, then its dirs.
func treeDirs(dataRoot, root string, t backend.Tree) []parentDir {
	var out []parentDir
	in := inOwnRoot
	if rel, err := filepath.Rel(filepath.Clean(dataRoot), root); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		parts := strings.Split(rel, "/")
		in = inRoot
		for i, c := range parts[:len(parts)-1] {
			at := inLeads + where(i)
			out = append(out, parentDir{at: at, in: in, name: c, rel: strings.Join(parts[:i+1], "/"),
				path: filepath.Join(dataRoot, filepath.Join(parts[:i+1]...)), lead: true})
			in = at
		}
	}
	name := root
	if in != inOwnRoot {
		name = filepath.Base(root)
	}
	out = append(out, parentDir{at: inTree, in: in, name: name, rel: "", path: root, tree: true})
	for i, d := range t.Dirs {
		parent, at := inTree, inTreeDirs+where(i)
		if dir := pathDir(d.Rel); dir != "" {
			for j, e := range t.Dirs[:i] {
				if e.Rel == dir {
					parent = inTreeDirs + where(j)
				}
			}
		}
		out = append(out, parentDir{at: at, in: parent, name: filepath.Base(d.Rel), rel: d.Rel, path: filepath.Join(root, d.Rel), tree: true, treeRel: d.Rel})
	}
	return out
}

// pathDir is the slash path's parent ("" for one component).
func pathDir(rel string) string {
	if i := strings.LastIndex(rel, "/"); i >= 0 {
		return rel[:i]
	}
	return ""
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
	// charge is what the store said of an entry of its tree.
	charge *backend.TreeCharge
}

// plan is the list of units and entries to walk, made from the names
// under the data root, the driver's dirs and containers/.
type plan struct {
	s       *inspect.Store
	r       *Report
	m       *meta
	bk      map[string]bool
	dirs    []parentDir
	units   []*unit
	entries []*entry
	// selfs are the units of the parent dirs' own inodes.
	selfs map[where]int32
	// driverNames are the names in the driver's content dir.
	driverNames map[string]bool
	// mounts are the live union mounts (Options.Mounts).
	mounts []inspect.LiveMount
}

func newPlan(s *inspect.Store, r *Report, m *meta, bk map[string]bool) *plan {
	return &plan{s: s, r: r, m: m, bk: bk, dirs: parentDirs(s), driverNames: map[string]bool{}, selfs: map[where]int32{}}
}

// drop forgets the parent dir at and those below it: their entries are
// not charged one by one, and the dir's own entry is charged as a whole.
func (p *plan) drop(at where) {
	gone := map[where]bool{at: true}
	var kept []parentDir
	for _, pd := range p.dirs {
		if gone[pd.at] || gone[pd.in] {
			gone[pd.at] = true
			continue
		}
		kept = append(kept, pd)
	}
	p.dirs = kept
}

// dir returns the parent dir at.
func (p *plan) dir(at where) parentDir {
	for _, pd := range p.dirs {
		if pd.at == at {
			return pd
		}
	}
	return parentDir{at: inRoot}
}

// modeOf says what of an entry counts toward Docker's size: a layer's
// content (the subdir of it that the driver lays the layer's content
// out in, or all of it), nothing for the driver's other per-layer entries
// (aufs's layers/ and mnt/), everything for the rest.
func (p *plan) modeOf(e *entry) (sizeMode, string) {
	pd := p.dir(e.parent)
	switch {
	case pd.layers != nil && !pd.layers.Content:
		return sizeNone, ""
	case !e.kind.layerKind() || pd.layers == nil:
		return sizeAll, ""
	}
	if sub := p.contentSub(e); sub != "" {
		return sizeSub, sub
	}
	if pd.layers.ContentSubdir == "" {
		return sizeAll, ""
	}
	return sizeSub, pd.layers.ContentSubdir
}

// contentSub is the layer entry's subdir that holds its content, as the
// driver lays out that layer (overlay2's diff; the legacy overlay
// driver's root of an image layer, upper of a container's); "" when the
// content is the entry itself or not one subdir of it.
func (p *plan) contentSub(e *entry) string {
	rel, err := filepath.Rel(p.path(e), p.s.Graph().Layout(e.name).Content)
	if err != nil || rel == "." || strings.Contains(rel, "/") || strings.HasPrefix(rel, "..") {
		return ""
	}
	return rel
}

// path is where the entry is.
func (p *plan) path(e *entry) string {
	if e.parent == inRoot {
		return p.s.Path(e.name)
	}
	return filepath.Join(p.dir(e.parent).path, e.name)
}

// display is how the entry is named in lists: its path below the driver
// home for the driver's dirs, below the data root for the rest.
func (p *plan) display(e *entry) string {
	pd := p.dir(e.parent)
	switch {
	case e.parent == inRoot, e.parent == inHome, e.parent == inTree:
		return e.name
	case pd.in == inHome:
		return pd.name + "/" + e.name
	}
	return pd.rel + "/" + e.name
}

func (p *plan) add(path string, mode sizeMode, sub string, logs bool) int32 {
	p.units = append(p.units, &unit{path: path, mode: mode, sub: sub, logs: logs})
	return int32(len(p.units) - 1)
}
