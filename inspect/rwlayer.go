package inspect

import (
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
)

// MountRecord is a container's writable layer as the store records it.
type MountRecord = backend.MountRecord

// MountRecord reads the writable layer record of a container (once per
// Store): layerdb/mounts/<containerID>/ for a graph driver.
func (s *Store) MountRecord(containerID string) (MountRecord, error) {
	return s.meta.MountRecord(containerID)
}

// LiveMount is an overlay mount seen in mountinfo, with its option paths
// made absolute (relative "l/…" forms resolved against the driver home).
type LiveMount struct {
	MountPoint string   `json:"mount_point"`
	LowerDirs  []string `json:"lower_dirs"`
	UpperDir   string   `json:"upper_dir"`
	WorkDir    string   `json:"work_dir"`
	Options    string   `json:"options"`
}

// RWLayer describes a container's writable layer and where its layers live.
type RWLayer struct {
	MountRecord
	// Driver is the storage driver of the layer ("overlay2", "aufs").
	Driver string `json:"driver"`
	// UpperDir is the writable layer's content: overlay2/<mount-id>/diff,
	// aufs/diff/<mount-id>.
	UpperDir string `json:"upper_dir"`
	// WorkDir is overlayfs's work dir; empty on aufs.
	WorkDir   string `json:"work_dir"`
	MergedDir string `json:"merged_dir"`
	InitDir   string `json:"init_dir"`
	// ParentsFile records the lower layers: overlay2/<mount-id>/lower,
	// aufs/layers/<mount-id>.
	ParentsFile string `json:"parents_file"`
	// LowerDirs are the lower layers' content dirs, uppermost first, resolved
	// through l/ on overlay2 — docker inspect's GraphDriver.Data.LowerDir.
	LowerDirs []string `json:"lower_dirs"`
	// LowerLinks are the entries of the parents file as written ("l/…" on
	// overlay2, layer ids on aufs).
	LowerLinks []string `json:"lower_links"`
	// MountLowerDirs are the lower dirs the driver mounts, uppermost first
	// (Driver.MountLowers): LowerDirs on overlay2 and aufs; the one root/
	// that lower-id names on the legacy overlay driver, whose LowerDirs
	// list every layer of that whole tree apart. A live mount's lower dirs
	// are compared with these.
	MountLowerDirs []string `json:"-"`
	// Link is the rw layer's short name in l/.
	Link string `json:"link,omitempty"`
	// Mounted says whether mountinfo shows the overlay mount of UpperDir;
	// null when no mount data was read.
	Mounted *bool      `json:"mounted"`
	Mount   *LiveMount `json:"mount,omitempty"`
	// Terms are the driver's words, for reports.
	Terms backend.Terms `json:"-"`
}

// GraphDriverLowerDir is what docker inspect shows as
// GraphDriver.Data.LowerDir: the lower dirs the driver mounts, joined.
func (r RWLayer) GraphDriverLowerDir() string { return strings.Join(r.MountLowerDirs, ":") }
