package mounts

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect"
)

// findings checks the mounts against each other and the containers.
func (mp *mapper) findings(r *Report, idx *index) {
	add := func(m *Mount, kind Problem, path, msg string) {
		r.Findings = append(r.Findings, inspect.Finding{Kind: inspect.FindingKind(kind), Path: path, Message: msg})
		if m != nil && !slices.Contains(m.Problems, kind) {
			m.Problems = append(m.Problems, kind)
		}
	}
	uppers := map[string][]int{}
	for i := range r.Mounts {
		m := &r.Mounts[i]
		if m.UpperDir != "" {
			k := filepath.Clean(m.UpperDir)
			uppers[k] = append(uppers[k], i)
		}
		if m.Merged && m.State != StateRunning {
			add(m, Leaked, m.MountPoint, leakMessage(m))
		}
		if m.Merged && m.drv.Terms().WorkDir && m.UpperDir != "" && !m.Relative {
			if want := m.drv.Layout(m.LayerID).Content; !sameUnder(m.UpperDir, want, mp.s.Root, mp.roots) {
				add(m, UpperMismatch, m.MountPoint,
					fmt.Sprintf("mounted at layer %s's merged dir with upper dir %s, not %s", shortLayer(m.LayerID), m.UpperDir, want))
			}
		}
		if m.StoreLowerLayers != nil && strings.Join(m.LowerLayers, ":") != strings.Join(m.StoreLowerLayers, ":") {
			add(m, LowerMismatch, m.MountPoint, fmt.Sprintf("mounted lower layers %s; the store's %s says %s",
				layerList(m.LowerLayers), m.drv.Terms().Lowers, layerList(m.StoreLowerLayers)))
		}
	}
	keys := make([]string, 0, len(uppers))
	for k := range uppers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		is := uppers[k]
		if len(is) < 2 {
			continue
		}
		var points []string
		for _, i := range is {
			points = append(points, r.Mounts[i].MountPoint)
		}
		msg := fmt.Sprintf("upper dir mounted %d times, at %s: writes through one mount are not seen consistently by the other (overlayfs: undefined behaviour)", len(is), strings.Join(points, ", "))
		r.Findings = append(r.Findings, inspect.Finding{Kind: inspect.FindingKind(UpperShared), Path: k, Message: msg})
		for _, i := range is {
			if !slices.Contains(r.Mounts[i].Problems, UpperShared) {
				r.Mounts[i].Problems = append(r.Mounts[i].Problems, UpperShared)
			}
		}
	}
	if !anyTableRead(r.Tables) {
		return
	}
	for _, c := range idx.running {
		if !hasMountOf(r.Mounts, c) {
			add(nil, Missing, c.merged, fmt.Sprintf("container %s (%s) is running according to its config, but no mount table read shows its rw layer %s mounted (the state may be stale after a crash, or --root is a copy of the live root)",
				c.name, shortID(c.id), shortID(c.layer.id)))
		}
	}
}

// leakMessage says why a merged mount is leaked and what to do.
func leakMessage(m *Mount) string {
	what := "layer " + shortLayer(m.LayerID) + " is mounted"
	switch m.State {
	case StateStopped, StateCreated:
		c := m.Container
		what = fmt.Sprintf("container %s (%s) is %s (%s) but its %s layer is still mounted", c.Name, shortID(c.ID), m.State, c.Status, c.Layer)
	case StateRemoved:
		if m.Container != nil {
			what = fmt.Sprintf("container %s was removed but its %s layer is still mounted", shortID(m.Container.ID), m.Container.Layer)
		} else {
			what = fmt.Sprintf("layer %s is gone from the store but still mounted", shortLayer(m.LayerID))
		}
	case StateUnknown:
		what = fmt.Sprintf("layer %s belongs to no container but is mounted", shortLayer(m.LayerID))
	}
	return what + "; Docker will not unmount it (umount it once nothing uses it)"
}

// layerList names layer dirs for a message.
func layerList(ids []string) string {
	if len(ids) == 0 {
		return "(none)"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if id == "" {
			out[i] = "(outside the store)"
		} else {
			out[i] = shortLayer(id)
		}
	}
	return strings.Join(out, ", ")
}

// shortLayer is a layer dir name cut like a Docker ID, keeping "-init".
func shortLayer(id string) string {
	if base, ok := strings.CutSuffix(id, "-init"); ok {
		return shortID(base) + "-init"
	}
	return shortID(id)
}

// shortID is the 12-character form Docker prints.
func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func anyTableRead(ts []Table) bool {
	for _, t := range ts {
		if t.Mounts > 0 {
			return true
		}
	}
	return false
}
