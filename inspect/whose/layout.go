package whose

import (
	"path/filepath"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
)

// layout is one storage driver's home under the data root, as whose reads
// paths below it: the driver parses them (ParsePath), names its
// bookkeeping and reads its short links. Everything else whose does
// (owners, union views, verdicts) is driver-agnostic.
type layout struct {
	// Name is the driver's name; Dir its home's name below the data root.
	Name string
	Dir  string
	d    backend.Driver
}

// layoutAt returns the layout of the driver whose home is the data root's
// entry first: the store's own driver, or any other registered one (a
// dir another driver left).
func layoutAt(s *inspect.Store, first string) (layout, bool) {
	for _, d := range s.Drivers() {
		if rel, err := filepath.Rel(s.Root, d.Home()); err == nil && rel == first {
			return layout{Name: d.Name().String(), Dir: rel, d: d}, true
		}
	}
	return layout{}, false
}

// isOwn reports whether driver is the store's own driver, not another
// one whose store or dirs the root also holds.
func isOwn(s *inspect.Store, driver string) bool {
	return backend.Name(driver) == s.Graph().Name()
}
