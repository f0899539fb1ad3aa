package inspect

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/overlay2"
)

// whoseLayout is how one storage driver lays out its home under the data
// root (<root>/<Name>/): enough for Whose to say which layer dir a path
// belongs to and which part of it the path is. Where a layer's dirs are is
// the Driver's (Layout); everything else Whose does (owners, union views,
// verdicts) is driver-agnostic. Adding a driver to Whose is adding an
// entry to whoseLayouts.
type whoseLayout struct {
	// Name is the driver name, which is also its dir under the data root
	// and under image/.
	Name string
	// Parse reads the components of a path below <root>/<Name>.
	Parse func(parts []string) whosePath
	// Bookkeeping names the driver's own top-level entries and says what
	// they are.
	Bookkeeping map[string]string
	// ShortLink, for a driver with short names for its layer dirs
	// (overlay2's l/<LINK>), says whether name has their form;
	// ResolveLink reads one (as text, never followed) and returns the
	// layer id it names.
	ShortLink   func(name string) bool
	ResolveLink func(home, name string) (string, error)
}

// whosePath is a path below a driver home, parsed.
type whosePath struct {
	// Kind is one of the Kind* constants for driver paths.
	Kind string
	// ID is the layer dir id (cache-id, mount-id, <mount-id>-init), or the
	// bookkeeping entry's name.
	ID string
	// Name is a metadata file's name (link, lower, committed, layers/<id>).
	Name string
	// Link is a short link's name.
	Link string
	// Rel is the path below a content dir, work dir or mount point.
	Rel []string
}

// The kinds of paths below a driver home (WhoseAnswer.Kind).
const (
	PathDriverHome        = "driver_home"        // overlay2/
	PathDriverBookkeeping = "driver_bookkeeping" // overlay2/l, overlay2/backingFsBlockDev
	PathShortLink         = "short_link"         // overlay2/l/<LINK>
	PathLayerDir          = "layer_dir"          // overlay2/<id>
	PathLayerContent      = "layer_content"      // overlay2/<id>/diff
	PathLayerEntry        = "layer_entry"        // overlay2/<id>/diff/<path>
	PathLayerWork         = "layer_work"         // overlay2/<id>/work[/…]
	PathLayerMountpoint   = "layer_mountpoint"   // overlay2/<id>/merged
	PathMergedEntry       = "merged_entry"       // overlay2/<id>/merged/<path>
	PathLayerFile         = "layer_file"         // overlay2/<id>/{link,lower,committed}
)

var whoseLayouts = map[string]whoseLayout{
	"overlay2": {
		Name:        "overlay2",
		Parse:       whoseParseOverlay2,
		Bookkeeping: overlay2.Bookkeeping,
		ShortLink:   whoseShortLink,
		ResolveLink: func(home, name string) (string, error) { return overlay2.Home{Dir: home}.ResolveLink(name) },
	},
	// aufs (Docker ≤ 23): diff/<id>/ content, layers/<id> parent list,
	// mnt/<id>/ mount point.
	"aufs": {
		Name:  "aufs",
		Parse: whoseParseAufs,
		Bookkeeping: map[string]string{
			"diff":   "the driver's content dirs: diff/<id>/",
			"layers": "the driver's parent lists: layers/<id>",
			"mnt":    "the driver's mount points: mnt/<id>/",
		},
	},
}

// whoseShortLink: 26 characters of [A-Z0-9] (moby overlay2 idLength).
func whoseShortLink(s string) bool {
	if len(s) != overlay2.LinkLen {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func whoseParseOverlay2(p []string) whosePath {
	switch {
	case len(p) == 0:
		return whosePath{Kind: PathDriverHome}
	case p[0] == "l" && len(p) == 1:
		return whosePath{Kind: PathDriverBookkeeping, ID: "l"}
	case p[0] == "l":
		return whosePath{Kind: PathShortLink, Link: p[1], Rel: p[2:]}
	case p[0] == "backingFsBlockDev":
		return whosePath{Kind: PathDriverBookkeeping, ID: p[0], Rel: p[1:]}
	case len(p) == 1:
		return whosePath{Kind: PathLayerDir, ID: p[0]}
	}
	d := whosePath{ID: p[0], Rel: p[2:]}
	switch p[1] {
	case "diff":
		d.Kind = PathLayerContent
		if len(d.Rel) > 0 {
			d.Kind = PathLayerEntry
		}
	case "work":
		d.Kind = PathLayerWork
	case "merged":
		d.Kind = PathLayerMountpoint
		if len(d.Rel) > 0 {
			d.Kind = PathMergedEntry
		}
	default:
		d.Kind, d.Name = PathLayerFile, p[1]
	}
	return d
}

func whoseParseAufs(p []string) whosePath {
	switch {
	case len(p) == 0:
		return whosePath{Kind: PathDriverHome}
	case len(p) == 1:
		return whosePath{Kind: PathDriverBookkeeping, ID: p[0]}
	}
	d := whosePath{ID: p[1], Rel: p[2:]}
	switch p[0] {
	case "diff":
		d.Kind = PathLayerContent
		if len(d.Rel) > 0 {
			d.Kind = PathLayerEntry
		}
	case "mnt":
		d.Kind = PathLayerMountpoint
		if len(d.Rel) > 0 {
			d.Kind = PathMergedEntry
		}
	case "layers":
		d.Kind, d.Name = PathLayerFile, "layers"
	default:
		d = whosePath{Kind: PathDriverBookkeeping, ID: p[0], Rel: p[1:]}
	}
	return d
}

// whoseContentDir is the content dir of layer dir id.
func (s *Store) whoseContentDir(id string) string { return s.graph.Layout(id).Content }

// OrphanReason says why nothing owns the layer dir name (at dir) of the
// store's driver — no layer, container or build cache names it — and what
// it looks like. mountOwner returns the ID of the container whose rw layer
// is the given mount-id, or "" (it names the container of a stray
// "<mount-id>-init").
func (s *Store) OrphanReason(dir, name string, mountOwner func(mountID string) string) string {
	fi, err := os.Lstat(dir)
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
	if _, err := os.Lstat(filepath.Join(dir, "diff")); err != nil && s.Driver == "overlay2" {
		why += "; it has no diff/ (not a complete layer dir)"
	}
	return why
}
