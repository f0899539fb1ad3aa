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
	// unowned keeps the Unowned lowers, by id, with the ref naming them.
	unowned map[string]string
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
		m.done, m.by, m.unowned = true, map[string]string{}, map[string]string{}
		for _, n := range s.layerDirNames() {
			lowers, _, err := s.graph.Lowers(n)
			if err != nil {
				continue
			}
			for _, l := range lowers {
				if l.ID != "" && l.ID != n {
					m.by[l.ID] = n
					if l.Unowned {
						m.unowned[l.ID] = l.Ref
					}
				}
			}
		}
	}
	by, ok = m.by[id]
	return by, ok
}

// UnownedLower reports whether layer dir id is a dir the driver mounts
// below other layers but that is no image layer (backend.Lower.Unowned: a
// classic-builder build container's init snapshot), with the layer dir by
// stacked on it and the name the driver's record gives it.
func (s *Store) UnownedLower(id string) (by, ref string, ok bool) {
	by, ok = s.StackedOn(id)
	if !ok {
		return "", "", false
	}
	s.stack.mu.Lock()
	defer s.stack.mu.Unlock()
	ref, ok = s.stack.unowned[id]
	return by, ref, ok
}

// UnownedReason says why such a dir is in use.
func UnownedReason(by, ref string) string {
	return "the init layer of a build container (" + ref + "), which a RUN step of a classic (non-BuildKit) build sits on: " +
		"no image lists it, but layer dir " + ShortID(by) + " and every layer and container above it mount it; deleting it breaks them"
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
