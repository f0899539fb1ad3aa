package backend

import (
	"path/filepath"
	"slices"

	"github.com/dlayer/dlayer/mountinfo"
)

// PathKind says what a path below a driver home is.
type PathKind string

// The kinds of paths below a driver home.
const (
	PathDriverHome        PathKind = "driver_home"        // overlay2/
	PathDriverBookkeeping PathKind = "driver_bookkeeping" // overlay2/l, overlay2/backingFsBlockDev
	PathShortLink         PathKind = "short_link"         // overlay2/l/<LINK>
	PathLayerDir          PathKind = "layer_dir"          // overlay2/<id>
	PathLayerContent      PathKind = "layer_content"      // overlay2/<id>/diff
	PathLayerEntry        PathKind = "layer_entry"        // overlay2/<id>/diff/<path>
	PathLayerWork         PathKind = "layer_work"         // overlay2/<id>/work[/…]
	PathLayerMountpoint   PathKind = "layer_mountpoint"   // overlay2/<id>/merged
	PathMergedEntry       PathKind = "merged_entry"       // overlay2/<id>/merged/<path>
	PathLayerFile         PathKind = "layer_file"         // overlay2/<id>/{link,lower,committed}
)

// String returns the kind as written in JSON.
func (k PathKind) String() string { return string(k) }

// Path is a path below a driver home, parsed by the driver.
type Path struct {
	Kind PathKind
	// ID is the layer dir id (cache-id, mount-id, <mount-id>-init), or the
	// bookkeeping entry's name.
	ID string
	// Name is a metadata file's name (link, lower, committed, layers).
	Name string
	// Link is a short link's name.
	Link string
	// Rel is the path below a content dir, work dir or mount point.
	Rel []string
}

// MountDirs are the dirs of a live union mount, decoded from its options
// and cleaned.
type MountDirs struct {
	Upper, Work string
	// Lowers are the dirs below the writable one, uppermost first; Data
	// overlay's data-only lower dirs.
	Lowers, Data []string
	// Branches are an aufs mount's branches, as mountinfo or sysfs give them.
	Branches []mountinfo.Branch
	// Relative is true when the options named dirs relative to the driver
	// home (overlay2's l/… forms), resolved against it.
	Relative bool
}

// MountProblem is what could not be decoded of a mount's options.
type MountProblem struct {
	// Malformed is true when the options do not parse
	// ("mount_options_malformed"); otherwise something could not be
	// resolved ("aufs_branches_unknown").
	Malformed bool
	Kind      FindingKind
	Message   string
}

// LayerSubdirs names the subdirs of a driver's layer dir: the content
// dirs (overlay2's diff; the legacy overlay driver's root and upper;
// containerd's fs), the work dir and the mount point ("" where there is
// none).
type LayerSubdirs struct {
	Content    []string
	Work       string
	Mountpoint string
}

// Sub classifies <layer dir id>/<sub>/<rel…>: an entry of its content dir
// or of its mount point, the dir itself, its work dir, or another file of
// the layer dir.
func (s LayerSubdirs) Sub(id, sub string, rel []string) Path {
	x := Path{ID: id, Rel: rel}
	switch {
	case slices.Contains(s.Content, sub):
		x.Kind = PathLayerContent
		if len(rel) > 0 {
			x.Kind = PathLayerEntry
		}
	case sub == s.Work && s.Work != "":
		x.Kind = PathLayerWork
	case sub == s.Mountpoint && s.Mountpoint != "":
		x.Kind = PathLayerMountpoint
		if len(rel) > 0 {
			x.Kind = PathMergedEntry
		}
	default:
		x.Kind, x.Name = PathLayerFile, sub
	}
	return x
}

// OverlayMountDirs are an overlay mount's dirs as its options name them,
// each cleaned ("" stays ""); a relative form is resolved by the caller.
func OverlayMountDirs(ov mountinfo.Overlay) MountDirs {
	md := MountDirs{Upper: cleanOrEmpty(ov.UpperDir), Work: cleanOrEmpty(ov.WorkDir)}
	for _, x := range ov.LowerDirs {
		md.Lowers = append(md.Lowers, filepath.Clean(x))
	}
	for _, x := range ov.DataDirs {
		md.Data = append(md.Data, filepath.Clean(x))
	}
	return md
}

func cleanOrEmpty(p string) string {
	if p == "" {
		return ""
	}
	return filepath.Clean(p)
}
