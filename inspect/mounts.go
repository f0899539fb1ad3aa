package inspect

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/mountinfo"
)

// Container states of a mount, as `dlayer mounts` reports them.
const (
	MountStateRunning = "running" // the container runs (or is paused or restarting)
	MountStateStopped = "stopped" // exited, dead or being removed
	MountStateCreated = "created" // created and never started
	MountStateRemoved = "removed" // the layer's container, or the layer itself, is gone from the store
	MountStateUnknown = "unknown" // the layer is in the store but belongs to no container
)

// Kinds of mount findings: problems, which make `dlayer mounts` exit 1.
const (
	// MountLeaked: a layer's merged mount whose container is not running.
	MountLeaked = "leaked_mount"
	// MountMissing: a running container whose rw layer is not mounted.
	MountMissing = "running_not_mounted"
	// MountLowerMismatch: the mounted lower layers are not the ones the
	// store's lower file (aufs: layers file) names.
	MountLowerMismatch = "mount_lower_mismatch"
	// MountUpperMismatch: a mount at a layer's merged point with another
	// upper dir than that layer's.
	MountUpperMismatch = "mount_upper_mismatch"
	// MountUpperShared: one upper dir mounted in several places.
	MountUpperShared = "upper_multiply_mounted"
)

// MountsOptions are the inputs of ScanMounts besides the store.
type MountsOptions struct {
	// Tables are the mount tables read (mountinfo.ReadNamespaces,
	// ReadPID or ReadTable).
	Tables []mountinfo.Table
	// SysRoot is where sysfs is mounted ("/sys"), to read the branches of
	// aufs mounts that show only si=; "" reads no sysfs.
	SysRoot string
}

// MountsReport is what ScanMounts found.
type MountsReport struct {
	// Root is the data root as given.
	Root string `json:"root"`
	// Tables say which mount tables were read.
	Tables []MountTable `json:"tables"`
	// Mounts are the overlay and aufs mounts with a dir under Root, each
	// once however many namespaces show it, sorted by mount point.
	Mounts []StoreMount `json:"mounts"`
	// Findings are the problems (the Mount* kinds): exit 1.
	Findings []Finding `json:"findings"`
	// Warnings say what could not be read; the scan went on.
	Warnings []Finding `json:"warnings"`
}

// MountTable describes one mount table read.
type MountTable struct {
	Path      string   `json:"path"`
	Namespace string   `json:"namespace,omitempty"`
	Procs     []string `json:"procs,omitempty"`
	// Mounts is the number of lines that parsed.
	Mounts int    `json:"mounts"`
	Error  string `json:"error,omitempty"`
}

// StoreMount is one overlay or aufs mount of the store's dirs.
type StoreMount struct {
	MountPoint string `json:"mount_point"`
	// FSType is "overlay" or "aufs".
	FSType string `json:"fstype"`
	// Driver is the driver home the mount's layer lies in: "overlay2",
	// "aufs", or "" when it is in neither.
	Driver string `json:"driver,omitempty"`
	// LayerID is the driver dir the mount belongs to (a container's
	// mount-id or init-id, or any layer's), from the mount point
	// <home>/<id>/merged (aufs/mnt/<id>) or else the upper dir.
	LayerID string `json:"layer_id,omitempty"`
	// Merged is true when the mount is at its layer's own mount point.
	Merged bool `json:"merged"`
	// State is one of the MountState* words.
	State string `json:"state"`
	// Container is the container whose rw (or init) layer LayerID is.
	Container *MountContainer `json:"container,omitempty"`
	// UpperDir, WorkDir and LowerDirs are the mount's dirs as the kernel
	// shows them, decoded, relative forms made absolute against the
	// store's driver home; for aufs, the writable branch and the others.
	UpperDir  string   `json:"upper_dir,omitempty"`
	WorkDir   string   `json:"work_dir,omitempty"`
	LowerDirs []string `json:"lower_dirs"`
	// Relative is true when the kernel shows relative paths (Docker's
	// overlay2 does so when absolute ones would not fit in a page).
	Relative bool `json:"relative,omitempty"`
	// LowerLayers are the layer dirs LowerDirs resolve to (through l/
	// links), uppermost first; "" for a dir outside the store.
	LowerLayers []string `json:"lower_layers"`
	// StoreLowerLayers are the layers the store's lower (aufs: layers)
	// file of LayerID names; null when there is none to compare with.
	StoreLowerLayers []string `json:"store_lower_layers"`
	// Branches are the aufs branches with their permissions.
	Branches []mountinfo.Branch `json:"branches,omitempty"`
	// Propagation is the first sighting's optional fields ("shared:5
	// master:2"), or "private".
	Propagation string `json:"propagation"`
	// Options are the super options as the kernel wrote them.
	Options string `json:"options"`
	// Seen lists every table line that shows the mount.
	Seen []MountSeen `json:"seen"`
	// Problems are the kinds of the findings about this mount.
	Problems []string `json:"problems,omitempty"`

	key string // superblock and place: one mount across namespaces
}

// MountContainer is the container a mount belongs to.
type MountContainer struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Status is the status word `docker ps` would show; "" when the
	// container's config is gone.
	Status string `json:"status,omitempty"`
	// Layer is "rw" or "init": which of its layers LayerID is.
	Layer string `json:"layer"`
}

// MountSeen is one sighting of a mount.
type MountSeen struct {
	Table     string `json:"table"`
	Line      int    `json:"line"`
	Namespace string `json:"namespace,omitempty"`
	MountID   int    `json:"mount_id"`
	// Propagation is "private" or the optional fields ("shared:5").
	Propagation string `json:"propagation"`
}

// Namespaces lists the namespaces the mount was seen in, in table order.
func (m StoreMount) Namespaces() []string {
	var out []string
	for _, s := range m.Seen {
		if s.Namespace != "" && !slices.Contains(out, s.Namespace) {
			out = append(out, s.Namespace)
		}
	}
	return out
}

// ScanMounts finds the overlay and aufs mounts of the store's dirs in the
// given mount tables, maps each to its container through layerdb/mounts,
// and reports leaked mounts, running containers that are not mounted,
// mounted lower layers that disagree with the store, and upper dirs
// mounted more than once. A mount is the store's when its mount point,
// upper, work or a lower dir lies under the data root (as given, or with
// its symlinks resolved).
func (s *Store) ScanMounts(opt MountsOptions) (*MountsReport, error) {
	r := &MountsReport{Root: s.Root}
	roots := rootForms(s.Root)
	idx, err := s.mountIndex(r)
	if err != nil {
		return nil, err
	}
	byKey := map[string]int{}
	for _, t := range opt.Tables {
		mt := MountTable{Path: t.Path, Namespace: t.Namespace, Procs: t.Procs, Mounts: len(t.Mounts)}
		if t.Err != nil {
			mt.Error = t.Err.Error()
			r.Warnings = append(r.Warnings, tableWarnings(t)...)
		}
		r.Tables = append(r.Tables, mt)
		for _, m := range t.Mounts {
			sm, warn, ok := s.storeMount(m, roots, opt.SysRoot)
			if warn != nil {
				warn.Path = fmt.Sprintf("%s:%d", t.Path, m.Line)
			}
			if !ok {
				continue
			}
			if warn != nil {
				r.Warnings = append(r.Warnings, *warn)
			}
			seen := MountSeen{Table: t.Path, Line: m.Line, Namespace: t.Namespace, MountID: m.MountID, Propagation: propagation(m)}
			if i, dup := byKey[sm.key]; dup {
				r.Mounts[i].Seen = append(r.Mounts[i].Seen, seen)
				continue
			}
			sm.Seen = []MountSeen{seen}
			sm.Propagation = seen.Propagation
			byKey[sm.key] = len(r.Mounts)
			r.Mounts = append(r.Mounts, sm)
		}
	}
	for i := range r.Mounts {
		s.attribute(&r.Mounts[i], idx)
	}
	sort.SliceStable(r.Mounts, func(i, j int) bool { return r.Mounts[i].MountPoint < r.Mounts[j].MountPoint })
	s.mountFindings(r, idx, roots)
	return r, nil
}

// tableWarnings turns a table's error into warnings: one per bad line.
func tableWarnings(t mountinfo.Table) []Finding {
	var les []error
	if j, ok := t.Err.(interface{ Unwrap() []error }); ok {
		les = j.Unwrap()
	} else {
		les = []error{t.Err}
	}
	var out []Finding
	for _, e := range les {
		var le *mountinfo.LineError
		if errors.As(e, &le) {
			out = append(out, Finding{Kind: "mountinfo_malformed", Path: fmt.Sprintf("%s:%d", t.Path, le.Line), Message: le.Err.Error()})
			continue
		}
		out = append(out, Finding{Kind: "mountinfo_unreadable", Path: t.Path, Message: e.Error()})
	}
	return out
}

// propagation is findmnt's view of the optional fields: "private" when
// there are none.
func propagation(m mountinfo.Mount) string {
	if len(m.OptionalFields) == 0 {
		return "private"
	}
	return strings.Join(m.OptionalFields, " ")
}

// mountFindings checks the mounts against each other and the containers.
func (s *Store) mountFindings(r *MountsReport, idx *mountIndex, roots []string) {
	add := func(m *StoreMount, kind, path, msg string) {
		r.Findings = append(r.Findings, Finding{Kind: kind, Path: path, Message: msg})
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
		if m.Merged && m.State != MountStateRunning {
			add(m, MountLeaked, m.MountPoint, leakMessage(m))
		}
		if d, ok := s.driverNamed(m.Driver); ok && m.Merged && d.Terms().WorkDir && m.UpperDir != "" && !m.Relative {
			if want := d.Layout(m.LayerID).Content; !sameUnder(m.UpperDir, want, s.Root, roots) {
				add(m, MountUpperMismatch, m.MountPoint,
					fmt.Sprintf("mounted at layer %s's merged dir with upper dir %s, not %s", shortLayer(m.LayerID), m.UpperDir, want))
			}
		}
		if m.StoreLowerLayers != nil && strings.Join(m.LowerLayers, ":") != strings.Join(m.StoreLowerLayers, ":") {
			add(m, MountLowerMismatch, m.MountPoint, fmt.Sprintf("mounted lower layers %s; the store's %s file says %s",
				layerList(m.LowerLayers), lowerFileName(m.Driver), layerList(m.StoreLowerLayers)))
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
		r.Findings = append(r.Findings, Finding{Kind: MountUpperShared, Path: k, Message: msg})
		for _, i := range is {
			if !slices.Contains(r.Mounts[i].Problems, MountUpperShared) {
				r.Mounts[i].Problems = append(r.Mounts[i].Problems, MountUpperShared)
			}
		}
	}
	if !anyTableRead(r.Tables) {
		return
	}
	for _, c := range idx.running {
		if !hasMountOf(r.Mounts, c) {
			add(nil, MountMissing, c.merged, fmt.Sprintf("container %s (%s) is running according to its config, but no mount table read shows its rw layer %s mounted (the state may be stale after a crash, or --root is a copy of the live root)",
				c.name, shortID(c.id), shortID(c.mountID)))
		}
	}
}

// leakMessage says why a merged mount is leaked and what to do.
func leakMessage(m *StoreMount) string {
	what := "layer " + shortLayer(m.LayerID) + " is mounted"
	switch m.State {
	case MountStateStopped, MountStateCreated:
		c := m.Container
		what = fmt.Sprintf("container %s (%s) is %s (%s) but its %s layer is still mounted", c.Name, shortID(c.ID), m.State, c.Status, c.Layer)
	case MountStateRemoved:
		if m.Container != nil {
			what = fmt.Sprintf("container %s was removed but its %s layer is still mounted", shortID(m.Container.ID), m.Container.Layer)
		} else {
			what = fmt.Sprintf("layer %s is gone from the store but still mounted", shortLayer(m.LayerID))
		}
	case MountStateUnknown:
		what = fmt.Sprintf("layer %s belongs to no container but is mounted", shortLayer(m.LayerID))
	}
	return what + "; Docker will not unmount it (umount it once nothing uses it)"
}

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

func lowerFileName(driver string) string {
	if driver == "aufs" {
		return "layers"
	}
	return "lower"
}

func anyTableRead(ts []MountTable) bool {
	for _, t := range ts {
		if t.Mounts > 0 {
			return true
		}
	}
	return false
}
