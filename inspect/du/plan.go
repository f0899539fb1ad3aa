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
	ownBookkeeping
	ownContainerDir
	ownOther
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
	return k == ownLayer || k == ownRW || k == ownInit || k == ownBuildCache
}

// where is the directory a top-level tree sits in: the data root,
// containers/, the driver home, or a dir of the home whose entries are
// layer entries (inLayers+i for the driver's HomeLayout.LayerDirs[i]).
type where uint8

const (
	inRoot where = iota
	inContainers
	inHome
	inLayers
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
	}
	return fmt.Sprintf("layers[%d]", uint8(w-inLayers))
}

// parentDir is a directory whose entries are top-level trees: opened
// below the dir at in, as name.
type parentDir struct {
	at, in where
	name   string
	rel    string // from the data root, for paths and messages
	// layers is set when the entries are the driver's layer entries.
	layers *backend.LayerDir
}

// content reports whether the dir's entries hold the layers' files.
func (pd parentDir) content() bool { return pd.layers != nil && pd.layers.Content }

// parentDirs are the dirs the audit opens, parents first: the driver home
// and its dirs of layer entries (as the driver lays them out), then
// containers/.
func parentDirs(s *inspect.Store) []parentDir {
	g := s.Graph()
	home := filepath.Base(g.Home())
	out := []parentDir{{at: inHome, in: inRoot, name: home, rel: home}}
	for i, ld := range g.HomeLayout().LayerDirs {
		if ld.Rel == "" {
			out[0].layers = &ld
			continue
		}
		out = append(out, parentDir{at: inLayers + where(i), in: inHome, name: ld.Rel, rel: home + "/" + ld.Rel, layers: &ld})
	}
	return append(out, parentDir{at: inContainers, in: inRoot, name: "containers", rel: "containers"})
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
}

func newPlan(s *inspect.Store, r *Report, m *meta, bk map[string]bool) *plan {
	return &plan{s: s, r: r, m: m, bk: bk, dirs: parentDirs(s), driverNames: map[string]bool{}, selfs: map[where]int32{}}
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
	return p.s.Path(p.dir(e.parent).rel, e.name)
}

// display is how the entry is named in lists: its path below the driver
// home for the driver's dirs, below the data root for the rest.
func (p *plan) display(e *entry) string {
	pd := p.dir(e.parent)
	switch {
	case e.parent == inRoot, e.parent == inHome:
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
