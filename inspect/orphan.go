package inspect

import "strings"

// OrphanReason says why nothing owns the layer dir name (at dir) of the
// store's driver — no layer, container or build cache names it — and what
// it looks like. mountOwner returns the ID of the container whose rw layer
// is the given mount-id, or "" (it names the container of a stray
// "<mount-id>-init").
func (s *Store) OrphanReason(dir, name string, mountOwner func(mountID string) string) string {
	fi, err := s.fs.Lstat(dir)
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
	if _, err := s.fs.Lstat(s.graph.Layout(name).Content); err != nil && s.graph.Terms().HasContentSubdir {
		why += "; it has no diff/ (not a complete layer dir)"
	}
	return why
}
