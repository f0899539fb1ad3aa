package whose

import (
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
)

// PathKind says what a path under the data root is (Answer.Kind): one of
// the Path* constants. The kinds below a driver home are the driver's
// (backend.ParsePath); the others are Docker's and whose's.
type PathKind = backend.PathKind

// The kinds of paths outside the driver homes.
const (
	PathDataRoot      PathKind = "data_root"
	PathImageStore    PathKind = "image_store"    // image/<driver>/ and dirs in it
	PathRepositories  PathKind = "repositories"   // image/<driver>/repositories.json
	PathLayerRecord   PathKind = "layer_record"   // image/<driver>/layerdb/sha256/<chain>[/file]
	PathMountRecord   PathKind = "mount_record"   // image/<driver>/layerdb/mounts/<container>[/file]
	PathLayerdbTmp    PathKind = "layerdb_tmp"    // image/<driver>/layerdb/tmp/…
	PathImageConfig   PathKind = "image_config"   // image/<driver>/imagedb/content/sha256/<id>
	PathImageMetadata PathKind = "image_metadata" // image/<driver>/imagedb/metadata/sha256/<id>[/file]
	PathDistribution  PathKind = "distribution"   // image/<driver>/distribution/…
	PathContainers    PathKind = "containers_dir" // containers/
	PathContainerDir  PathKind = "container_dir"  // containers/<id>
	PathContainerFile PathKind = "container_file" // containers/<id>/…
	PathBuildKit      PathKind = "buildkit"       // buildkit/…
	PathOther         PathKind = "other"          // volumes/, network/, … : Docker's, not layers
	PathContentBlob   PathKind = "content_blob"   // a content store's blobs/<alg>/<hex> (containerd's)
)

// The kinds of paths below a driver home, as the drivers parse them.
const (
	PathDriverHome        = backend.PathDriverHome
	PathDriverBookkeeping = backend.PathDriverBookkeeping
	PathShortLink         = backend.PathShortLink
	PathLayerDir          = backend.PathLayerDir
	PathLayerContent      = backend.PathLayerContent
	PathLayerEntry        = backend.PathLayerEntry
	PathLayerWork         = backend.PathLayerWork
	PathLayerMountpoint   = backend.PathLayerMountpoint
	PathMergedEntry       = backend.PathMergedEntry
	PathLayerFile         = backend.PathLayerFile
)

// OwnerKind says what kind of object a path belongs to (Owner.Kind).
type OwnerKind string

// The kinds of owners.
const (
	OwnerImageLayer  OwnerKind = "image_layer" // a layerdb layer (cache-id)
	OwnerRWLayer     OwnerKind = "rw_layer"    // a container's writable layer (mount-id)
	OwnerInitLayer   OwnerKind = "init_layer"  // a container's init layer (init-id)
	OwnerBuildCache  OwnerKind = "build_cache" // a BuildKit snapshot
	OwnerBookkeeping OwnerKind = "bookkeeping" // the driver's own (l/)
	OwnerOrphan      OwnerKind = "orphan"      // nothing: no metadata names it
	OwnerUnaccounted OwnerKind = "unaccounted" // no record names it, but another layer dir stacks on it: in use
	// OwnerUnownedLower: a dir the driver mounts below image layers that no
	// image lists (a classic-builder build container's init snapshot): in use.
	OwnerUnownedLower OwnerKind = "unowned_lower"
	OwnerImage        OwnerKind = "image"        // an image (its config, metadata)
	OwnerContainer    OwnerKind = "container"    // a container (its dir, files)
	OwnerDocker       OwnerKind = "docker"       // Docker's own state (repositories, volumes, …)
	OwnerOtherDriver  OwnerKind = "other_driver" // a storage driver the store does not use
	OwnerUnknown      OwnerKind = "unknown"      // a name dlayer does not know
)

// String returns the kind as written in JSON.
func (k OwnerKind) String() string { return string(k) }

// named reports whether the store's metadata names owners of the kind:
// a path of theirs that does not exist is still answered (a missing layer
// dir, the merged/ dir of a container that is not running).
func (k OwnerKind) named() bool {
	switch k {
	case OwnerImageLayer, OwnerRWLayer, OwnerInitLayer, OwnerImage, OwnerContainer:
		return true
	}
	return false
}

// Safe says whether deleting a path by hand is safe (Verdict.Safe).
type Safe string

// The verdicts.
const (
	SafeNo      Safe = "no"
	SafeYes     Safe = "yes"
	SafeCaution Safe = "caution"
)

// String returns the verdict as written in JSON.
func (v Safe) String() string { return string(v) }

// ViewResult is what a container or image sees at the path, with respect
// to the layer asked about (View.Result).
type ViewResult string

// The results of a view.
const (
	// ViewVisible: the layer's entry is what the view shows.
	ViewVisible ViewResult = "visible"
	// ViewMerged: a dir of the layer, under a dir of an upper layer: the
	// view shows the upper dir's metadata and both dirs' entries.
	ViewMerged ViewResult = "merged"
	// ViewShadowed: an upper layer has its own entry at the path.
	ViewShadowed ViewResult = "shadowed"
	// ViewWhitedOut: an upper layer deletes the path (a whiteout).
	ViewWhitedOut ViewResult = "whited_out"
	// ViewHidden: an upper layer deletes or replaces a parent dir, or
	// makes it opaque: nothing below it from this layer is visible.
	ViewHidden ViewResult = "hidden"
	// ViewDeletes: the layer's entry is a whiteout, in effect: the view
	// has nothing at the path.
	ViewDeletes ViewResult = "deletes"
	// ViewFrom: the layer has nothing at the path (or the path is in a
	// mount point); the view shows By's entry.
	ViewFrom ViewResult = "from"
	// ViewAbsent: the view has nothing at the path.
	ViewAbsent ViewResult = "absent"
)

// String returns the result as written in JSON.
func (r ViewResult) String() string { return string(r) }

// ViewOf says whose view a View is.
type ViewOf string

// The holders of views.
const (
	OfContainer ViewOf = "container"
	OfImage     ViewOf = "image"
)

// String returns the holder as written in JSON.
func (o ViewOf) String() string { return string(o) }

// Role is where a layer sits in a stack: a container's writable layer,
// its init layer, or an image layer.
type Role = inspect.LayerRole

// The roles of layers.
const (
	RoleRW    = inspect.RoleRW
	RoleInit  = inspect.RoleInit
	RoleImage = inspect.RoleImage
)

// EntryKind is what an entry of a layer means to the union (Entry.Kind).
type EntryKind string

// The kinds of entries.
const (
	// EntryPlain is a file or dir the union shows as it is.
	EntryPlain EntryKind = "plain"
	// EntryWhiteout deletes the path from the layers below.
	EntryWhiteout EntryKind = "whiteout"
	// EntryOpaqueDir hides everything the layers below have in it.
	EntryOpaqueDir EntryKind = "opaque_dir"
	// EntryRedirectDir is a renamed dir.
	EntryRedirectDir EntryKind = "redirect_dir"
	// EntryMetacopy is a metadata-only copy: the data is below.
	EntryMetacopy EntryKind = "metacopy"
	// EntryBookkeeping is the driver's own file.
	EntryBookkeeping EntryKind = "bookkeeping"
)

// String returns the kind as written in JSON.
func (k EntryKind) String() string { return string(k) }
