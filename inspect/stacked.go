package inspect

import (
	"path/filepath"
	"sync"
)

// stackMemo keeps, once read, which layer dir's lower list names each
// layer dir id.
type stackMemo struct {
	mu   sync.Mutex
	done bool
	by   map[string]string
}

// StackedOn returns a layer dir of the driver's home whose lower list (as
// the driver records it: overlay2's lower, aufs's layers/<id>) names layer
// dir id, and ok; ok is false when none does. A dir that another stacks on
// is in use whatever its own records say: deleting it breaks that layer
// and everything built on it. The lists are read once per Store.
func (s *Store) StackedOn(id string) (by string, ok bool) {
	m := &s.stack
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.done {
		m.done, m.by = true, map[string]string{}
		for _, n := range s.layerDirNames() {
			lowers, _, err := s.graph.Lowers(n)
			if err != nil {
				continue
			}
			for _, l := range lowers {
				if l.ID != "" && l.ID != n {
					m.by[l.ID] = n
				}
			}
		}
	}
	by, ok = m.by[id]
	return by, ok
}

// layerDirNames lists the entries of the driver's content dir: the layer
// dir ids present on disk.
func (s *Store) layerDirNames() []string {
	var out []string
	for _, d := range s.graph.HomeLayout().LayerDirs {
		if !d.Content {
			continue
		}
		ents, err := s.fs.ReadDir(filepath.Join(s.graph.Home(), d.Rel))
		if err != nil {
			continue
		}
		for _, e := range ents {
			out = append(out, e.Name())
		}
	}
	return out
}

// StackedReason says why a layer dir that no record names, but that layer
// dir by stacks on (StackedOn), is in use.
func StackedReason(by string) string {
	return "no layerdb layer, container or BuildKit snapshot names it, but the lower list of layer dir " + ShortID(by) +
		" stacks on it: it is in use (its own record may be damaged); deleting it breaks that layer and what uses it"
}
