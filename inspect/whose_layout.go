package inspect

import (
	"github.com/dlayer/dlayer/inspect/backend"
	"os"
	"path/filepath"
	"strings"
)

// whoseLayout is one storage driver's home under the data root, as Whose
// reads paths below it: the driver parses them (ParsePath), names its
// bookkeeping and reads its short links. Everything else Whose does
// (owners, union views, verdicts) is driver-agnostic.
type whoseLayout struct {
	// Name is the driver's name; Dir its home's name below the data root.
	Name string
	Dir  string
	d    Driver
}

// Parse reads the components of a path below the driver home.
func (l whoseLayout) Parse(parts []string) whosePath { return l.d.ParsePath(parts) }

// whosePath is a path below a driver home, parsed by its driver.
type whosePath = Path

// The kinds of paths below a driver home (WhoseAnswer.Kind), as the
// drivers parse them.
const (
	PathDriverHome        = backend.PathDriverHome
	PathDriverBookkeeping = backend.PathDriverBookkeeping
	PathShortLink         = backend.PathShortLink
	PathLayerDir          = backend.PathLayerDir
	PathLayerContent      = backend.PathLayerContent
	PathLayerEntry        = backend.PathLayerEntry
	PathLayerWork         = backend.PathLayerWork
	PathLayerMountpoint   = backend.PathLayerMountpoint
	PathMergedEntry       = backend.PathMergedEntry
	PathLayerFile         = backend.PathLayerFile
)

// whoseLayoutAt returns the layout of the driver whose home is the data
// root's entry first.
func (s *Store) whoseLayoutAt(first string) (whoseLayout, bool) {
	for _, d := range s.Drivers() {
		if rel, err := filepath.Rel(s.Root, d.Home()); err == nil && rel == first {
			return whoseLayout{Name: string(d.Name()), Dir: rel, d: d}, true
		}
	}
	return whoseLayout{}, false
}

// whoseLayoutOf returns the layout of the store's own driver.
func (s *Store) whoseLayoutOf() whoseLayout {
	rel, _ := filepath.Rel(s.Root, s.graph.Home())
	return whoseLayout{Name: s.Driver, Dir: rel, d: s.graph}
}

// whoseContentDir is the content dir of layer dir id.
func (s *Store) whoseContentDir(id string) string { return s.graph.Layout(id).Content }

// OrphanReason says why nothing owns the layer dir name (at dir) of the
// store's driver — no layer, container or build cache names it — and what
// it looks like. mountOwner returns the ID of the container whose rw layer
// is the given mount-id, or "" (it names the container of a stray
// "<mount-id>-init").
func (s *Store) OrphanReason(dir, name string, mountOwner func(mountID string) string) string {
	fi, err := os.Lstat(dir)
	switch {
	case err != nil:
		return "unreadable: " + err.Error()
	case strings.HasSuffix(name, "-removing"):
		return "left by an interrupted removal (the dir was renamed to <id>-removing to be deleted)"
	case !fi.IsDir():
		return "a stray file, not a layer dir"
	}
	why := "no layerdb layer (cache-id), container (mount-id, init-id) or BuildKit snapshot names it"
	if base, ok := strings.CutSuffix(name, "-init"); ok {
		why = "init layer of a container that no longer exists: no layerdb/mounts/*/init-id names it"
		if id := mountOwner(base); id != "" {
			why = "init layer of container " + shortID(id) + ", but its mount record names another init-id"
		}
	}
	if _, err := os.Lstat(s.graph.Layout(name).Content); err != nil && s.graph.Terms().HasContentSubdir {
		why += "; it has no diff/ (not a complete layer dir)"
	}
	return why
}
