package mounts

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/mountinfo"
)

// Options are the inputs of Map besides the store.
type Options struct {
	// Tables are the mount tables read (mountinfo.ReadNamespaces,
	// ReadPID or ReadTable).
	Tables []mountinfo.Table
	// SysRoot is where sysfs is mounted ("/sys"), to read the branches of
	// aufs mounts that show only si=; "" reads no sysfs.
	SysRoot string
	// ProcRoot is where procfs is mounted ("/proc") when the tables are
	// this host's: a created container whose containerd task exists is
	// being started, and its mount is not leaked (it is a Changed entry).
	// "" reads no processes (tables copied from elsewhere).
	ProcRoot string
	// Recheck re-reads the records and tables before a problem is
	// reported; the zero value re-reads nothing.
	Recheck Recheck
}

// Report is what Map found.
type Report struct {
	// Root is the data root as given.
	Root string `json:"root"`
	// Tables say which mount tables were read.
	Tables []Table `json:"tables"`
	// Mounts are the union mounts with a dir under Root, each once
	// however many namespaces show it, sorted by mount point.
	Mounts []Mount `json:"mounts"`
	// Findings are the problems (their Kind is a Problem): exit 1.
	Findings []inspect.Finding `json:"findings"`
	// Warnings say what could not be read; the scan went on.
	Warnings []inspect.Finding `json:"warnings"`
	// Changed are the problems of the first read that the re-reads did
	// not confirm (with Options.Recheck): information, exit 0.
	Changed []Changed `json:"changed_during_scan,omitempty"`
}

// Table describes one mount table read.
type Table struct {
	Path      string   `json:"path"`
	Namespace string   `json:"namespace,omitempty"`
	Procs     []string `json:"procs,omitempty"`
	// Mounts is the number of lines that parsed.
	Mounts int    `json:"mounts"`
	Error  string `json:"error,omitempty"`
}

// Mount is one union mount of the store's dirs.
type Mount struct {
	MountPoint string `json:"mount_point"`
	// FSType is the mount's file system type, as mountinfo shows it.
	FSType string `json:"fstype"`
	// Driver is the driver whose home the mount's layer lies in; "" when
	// it lies in none.
	Driver string `json:"driver,omitempty"`
	// LayerID is the driver dir the mount belongs to (a container's
	// mount-id or init-id, or any layer's), from the mount point when it
	// is the driver's mount point of a layer, or else the upper dir.
	LayerID string `json:"layer_id,omitempty"`
	// Merged is true when the mount is at its layer's own mount point.
	Merged bool `json:"merged"`
	// State is the state of the layer's container.
	State State `json:"state"`
	// Container is the container whose rw (or init) layer LayerID is.
	Container *Container `json:"container,omitempty"`
	// UpperDir, WorkDir and LowerDirs are the mount's dirs as the kernel
	// shows them, decoded, relative forms made absolute against the
	// driver home; for aufs, the writable branch and the others.
	UpperDir  string   `json:"upper_dir,omitempty"`
	WorkDir   string   `json:"work_dir,omitempty"`
	LowerDirs []string `json:"lower_dirs"`
	// Relative is true when the kernel shows relative paths (Docker's
	// overlay2 does so when absolute ones would not fit in a page).
	Relative bool `json:"relative,omitempty"`
	// ResolvedIn is the driver home relative paths were resolved against
	// (under the root form the mount lies in); "" unless Relative.
	ResolvedIn string `json:"-"`
	// LowerLayers are the layer dirs LowerDirs resolve to (through short
	// links), uppermost first; "" for a dir outside the store.
	LowerLayers []string `json:"lower_layers"`
	// StoreLowerLayers are the layers the driver mounts under LayerID, as
	// its records say (Driver.MountLowers); null when the store has no
	// record to compare with (the layer is gone, or its record unreadable).
	StoreLowerLayers []string `json:"store_lower_layers" jsonschema:"nullable"`
	// Branches are the aufs branches with their permissions.
	Branches []mountinfo.Branch `json:"branches,omitempty"`
	// Propagation is the first sighting's optional fields ("shared:5
	// master:2"), or "private".
	Propagation string `json:"propagation"`
	// Options are the super options as the kernel wrote them.
	Options string `json:"options"`
	// Seen lists every table line that shows the mount.
	Seen []Seen `json:"seen"`
	// Problems are the kinds of the findings about this mount.
	Problems []Problem `json:"problems,omitempty"`

	key string         // superblock and place: one mount across namespaces
	drv backend.Driver // the driver whose home LayerID lies in
}

// Container is the container a mount belongs to.
type Container struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Status is the status word `docker ps` would show; "" when the
	// container's config is gone.
	Status string `json:"status,omitempty"`
	// Layer says which of its layers LayerID is.
	Layer Role `json:"layer"`
}

// Seen is one sighting of a mount.
type Seen struct {
	Table     string `json:"table"`
	Line      int    `json:"line"`
	Namespace string `json:"namespace,omitempty"`
	MountID   int    `json:"mount_id"`
	// Propagation is "private" or the optional fields ("shared:5").
	Propagation string `json:"propagation"`
}

// Namespaces lists the namespaces the mount was seen in, in table order.
func (m Mount) Namespaces() []string {
	var out []string
	for _, s := range m.Seen {
		if s.Namespace != "" && !slices.Contains(out, s.Namespace) {
			out = append(out, s.Namespace)
		}
	}
	return out
}

// mapper is one run of Map: the store and the forms of its root.
type mapper struct {
	s       *inspect.Store
	roots   []string
	sysRoot string
}

// Map finds the union mounts of the store's dirs in the given mount
// tables, maps each to its container through the mount records of every
// driver the root holds, and reports leaked mounts, running containers
// that are not mounted, mounted lower layers that disagree with the store,
// and upper dirs mounted more than once. A mount is the store's when a
// registered driver decodes it and its mount point, upper, work or a lower
// dir lies under the data root (as given, or with its symlinks resolved).
//
// With opt.Recheck, the problems are re-read before they are reported
// (see Recheck): a mount of a container being created or removed is not
// called leaked.
func Map(s *inspect.Store, opt Options) (*Report, error) {
	r, err := mapOnce(s, opt.Tables, opt.SysRoot, opt.ProcRoot)
	if err != nil || len(opt.Recheck.Delays) == 0 || len(r.Findings) == 0 {
		return r, err
	}
	recheck(r, s, opt)
	return r, nil
}

// mapOnce is Map without a re-check: one read of the store's records and
// the tables.
func mapOnce(s *inspect.Store, tables []mountinfo.Table, sysRoot, procRoot string) (*Report, error) {
	r := &Report{Root: s.Root}
	mp := &mapper{s: s, roots: rootForms(s.Root), sysRoot: sysRoot}
	idx, err := readIndex(s, r)
	if err != nil {
		return nil, err
	}
	byKey := map[string]int{}
	for _, t := range tables {
		mt := Table{Path: t.Path, Namespace: t.Namespace, Procs: t.Procs, Mounts: len(t.Mounts)}
		if t.Err != nil {
			mt.Error = t.Err.Error()
			r.Warnings = append(r.Warnings, tableWarnings(t)...)
		}
		r.Tables = append(r.Tables, mt)
		for _, m := range t.Mounts {
			sm, warn, ok := mp.storeMount(m)
			if !ok {
				continue
			}
			if warn != nil {
				warn.Path = fmt.Sprintf("%s:%d", t.Path, m.Line)
				r.Warnings = append(r.Warnings, *warn)
			}
			seen := Seen{Table: t.Path, Line: m.Line, Namespace: t.Namespace, MountID: m.MountID, Propagation: propagation(m)}
			if i, dup := byKey[sm.key]; dup {
				r.Mounts[i].Seen = append(r.Mounts[i].Seen, seen)
				continue
			}
			sm.Seen = []Seen{seen}
			sm.Propagation = seen.Propagation
			byKey[sm.key] = len(r.Mounts)
			r.Mounts = append(r.Mounts, sm)
		}
	}
	for i := range r.Mounts {
		mp.attribute(&r.Mounts[i], idx)
	}
	sort.SliceStable(r.Mounts, func(i, j int) bool { return r.Mounts[i].MountPoint < r.Mounts[j].MountPoint })
	mp.findings(r, idx)
	if procRoot != "" {
		starting(r, readTasks(procRoot))
	}
	return r, nil
}

// tableWarnings turns a table's error into warnings: one per bad line.
func tableWarnings(t mountinfo.Table) []inspect.Finding {
	var les []error
	if j, ok := t.Err.(interface{ Unwrap() []error }); ok {
		les = j.Unwrap()
	} else {
		les = []error{t.Err}
	}
	var out []inspect.Finding
	for _, e := range les {
		var le *mountinfo.LineError
		if errors.As(e, &le) {
			out = append(out, inspect.Finding{Kind: inspect.FindingKind(TableMalformed), Path: fmt.Sprintf("%s:%d", t.Path, le.Line), Message: le.Err.Error()})
			continue
		}
		out = append(out, inspect.Finding{Kind: inspect.FindingKind(TableUnreadable), Path: t.Path, Message: e.Error()})
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
