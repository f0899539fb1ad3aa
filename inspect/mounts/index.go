package mounts

import (
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
)

// index maps driver dirs to the containers whose rw or init layer they
// are, from the mount records of every driver the root holds.
type index struct {
	owners     map[layerKey]owner
	containers map[string]inspect.Container
	running    []runningRW
}

// layerKey is a layer dir of one driver.
type layerKey struct {
	driver backend.Name
	id     string
}

// owner is the container a layer dir is a layer of.
type owner struct {
	containerID string
	role        Role
}

// runningRW is a running container's rw layer, which should be mounted.
type runningRW struct {
	id, name string
	layer    layerKey
	merged   string // where the driver mounts it
}

// readIndex reads the containers and the mount records through the
// store's memoized metadata; unreadable entries become warnings of r.
func readIndex(s *inspect.Store, r *Report) (*index, error) {
	cs, finds, err := s.Containers()
	if err != nil {
		return nil, err
	}
	r.Warnings = append(r.Warnings, finds...)
	idx := &index{owners: map[layerKey]owner{}, containers: map[string]inspect.Container{}}
	for _, c := range cs {
		idx.containers[c.ID] = c
	}
	stores := s.Stores()
	rwOf := map[string]map[backend.Name]string{} // container → driver → mount-id
	for _, ds := range stores {
		drv := ds.Graph().Name()
		ids, err := ds.MountContainerIDs()
		if err != nil {
			r.Warnings = append(r.Warnings, inspect.Finding{Kind: inspect.FindingKind(RecordUnreadable), Path: ds.ImagePath("layerdb", "mounts"), Message: err.Error()})
			continue
		}
		for _, cid := range ids {
			rec, err := ds.MountRecord(cid)
			if err != nil {
				r.Warnings = append(r.Warnings, inspect.Finding{Kind: inspect.FindingKind(RecordUnreadable), Path: ds.ImagePath("layerdb", "mounts", cid), Message: err.Error()})
				continue
			}
			idx.claim(r, ds, layerKey{drv, rec.MountID}, owner{containerID: cid, role: RoleRW})
			if rec.InitID != "" {
				idx.claim(r, ds, layerKey{drv, rec.InitID}, owner{containerID: cid, role: RoleInit})
			}
			if rwOf[cid] == nil {
				rwOf[cid] = map[backend.Name]string{}
			}
			rwOf[cid][drv] = rec.MountID
		}
	}
	for _, c := range cs {
		if !c.State.Running {
			continue
		}
		// The container's own driver, when it has a record there.
		for _, ds := range stores {
			g := ds.Graph()
			mid, ok := rwOf[c.ID][g.Name()]
			if !ok || (len(rwOf[c.ID]) > 1 && backend.Name(c.Driver) != g.Name()) {
				continue
			}
			idx.running = append(idx.running, runningRW{id: c.ID, name: c.Name, layer: layerKey{g.Name(), mid}, merged: g.Layout(mid).Merged})
		}
	}
	return idx, nil
}

// hasMountOf reports whether a running container's rw layer is among the
// mounts.
func hasMountOf(ms []Mount, c runningRW) bool {
	for _, m := range ms {
		if m.drv != nil && (layerKey{m.drv.Name(), m.LayerID}) == c.layer {
			return true
		}
	}
	return false
}

// claim records o as the owner of layer dir k. When another container's
// record already names the dir (evidence can hold two records naming one
// dir), both are named in a warning, and the dir stays with a running
// claimant: a mount a running container uses is never called leaked.
func (idx *index) claim(r *Report, ds *inspect.Store, k layerKey, o owner) {
	prev, ok := idx.owners[k]
	if ok && prev.containerID != o.containerID {
		r.Warnings = append(r.Warnings, inspect.Finding{Kind: inspect.FindingKind(ClaimedTwice), Path: ds.Graph().Layout(k.id).Dir,
			Message: "layer dir " + k.id + " is claimed by the records of containers " + inspect.ShortID(prev.containerID) + " and " + inspect.ShortID(o.containerID) +
				": one of the records is not Docker's; a mount of it is attributed to a running claimant, if any, and never called leaked for the other"})
		if running(idx.containers[prev.containerID]) {
			return
		}
	}
	idx.owners[k] = o
}

func running(c inspect.Container) bool {
	switch c.State.Status {
	case "running", "paused", "restarting":
		return true
	}
	return false
}
