package inspect

import (
	"time"

	"github.com/opencontainers/go-digest"
)

// WhoseAnswer says what a path under the data root is, who owns it, and
// whether deleting it is safe.
type WhoseAnswer struct {
	// Arg is the path as given; Path is it resolved lexically against the
	// data root (never through a symlink); Rel is Path relative to the
	// data root ("." for the root itself).
	Arg  string `json:"arg"`
	Path string `json:"path"`
	Rel  string `json:"rel"`
	// Exists says whether Path exists (lstat); Type is its file type.
	Exists bool   `json:"exists"`
	Type   string `json:"type,omitempty"`
	// Kind says what the path is: one of the Path* constants.
	Kind PathKind `json:"kind"`
	// Driver is the storage driver whose dir the path is in.
	Driver string `json:"driver,omitempty"`
	// LayerDir is the driver dir the path is in (cache-id, mount-id or
	// <mount-id>-init), or the bookkeeping entry's name.
	LayerDir string `json:"layer_dir,omitempty"`
	// Name is the metadata file the path names, e.g. "lower",
	// "hostconfig.json", "cache-id".
	Name string `json:"name,omitempty"`
	// InLayer is the path inside a layer's content dir, work dir or mount
	// point, as the container sees it ("/etc/passwd").
	InLayer string `json:"in_layer,omitempty"`
	// Link is the short link the path is, or goes through.
	Link *WhoseLink `json:"link,omitempty"`
	// Owner is the object the path belongs to.
	Owner WhoseOwner `json:"owner"`
	// Entry is, for a path inside a layer's content dir, what the layer
	// holds there.
	Entry *WhoseEntry `json:"entry,omitempty"`
	// Views say, for a path inside a layer's content dir or mount point,
	// what each container (and image) using the layer sees there.
	Views []WhoseView `json:"views,omitempty"`
	// Usage is what the path holds, measured now; nil when not measured
	// (an image layer's size is Owner.Layer.Size).
	Usage *WhoseUsage `json:"usage,omitempty"`
	// Mounts are live mounts (mountinfo) that use the layer dir.
	Mounts []string `json:"mounts,omitempty"`
	// Verdict says whether deleting the path is safe, and why.
	Verdict WhoseVerdict `json:"verdict"`
	// Notes are facts worth knowing about this path.
	Notes    []string  `json:"notes,omitempty"`
	Findings []Finding `json:"findings"`
}

// The kinds of paths Whose knows outside the driver homes (those inside
// are in whose_layout.go).
const (
	PathDataRoot      PathKind = "data_root"
	PathImageStore             = "image_store"    // image/<driver>/ and dirs in it
	PathRepositories           = "repositories"   // image/<driver>/repositories.json
	PathLayerRecord            = "layer_record"   // image/<driver>/layerdb/sha256/<chain>[/file]
	PathMountRecord            = "mount_record"   // image/<driver>/layerdb/mounts/<container>[/file]
	PathLayerdbTmp             = "layerdb_tmp"    // image/<driver>/layerdb/tmp/…
	PathImageConfig            = "image_config"   // image/<driver>/imagedb/content/sha256/<id>
	PathImageMetadata          = "image_metadata" // image/<driver>/imagedb/metadata/sha256/<id>[/file]
	PathDistribution           = "distribution"   // image/<driver>/distribution/…
	PathContainers             = "containers_dir" // containers/
	PathContainerDir           = "container_dir"  // containers/<id>
	PathContainerFile          = "container_file" // containers/<id>/…
	PathBuildKit               = "buildkit"       // buildkit/…
	PathOther                  = "other"          // volumes/, network/, … : Docker's, not layers
)

// The kinds of owners.
const (
	OwnerImageLayer  = "image_layer"  // a layerdb layer (cache-id)
	OwnerRWLayer     = "rw_layer"     // a container's writable layer (mount-id)
	OwnerInitLayer   = "init_layer"   // a container's init layer (init-id)
	OwnerBuildCache  = "build_cache"  // a BuildKit snapshot
	OwnerBookkeeping = "bookkeeping"  // the driver's own (l/)
	OwnerOrphan      = "orphan"       // nothing: no metadata names it
	OwnerImage       = "image"        // an image (its config, metadata)
	OwnerContainer   = "container"    // a container (its dir, files)
	OwnerDocker      = "docker"       // Docker's own state (repositories, volumes, …)
	OwnerOtherDriver = "other_driver" // a storage driver the store does not use
	OwnerUnknown     = "unknown"      // a name dlayer does not know
)

// WhoseOwner is the object a path belongs to.
type WhoseOwner struct {
	// Kind is one of the Owner* constants.
	Kind string `json:"kind"`
	// ID is the owner's ID: a driver dir name, image ID or container ID.
	ID string `json:"id,omitempty"`
	// Why says what the owner is, for orphans, bookkeeping and Docker's
	// own files; for an orphan, why nothing owns it.
	Why string `json:"why,omitempty"`
	// Layer is set for image layers (and their layerdb records).
	Layer *WhoseLayer `json:"layer,omitempty"`
	// Container is set for rw and init layers, mount records and
	// container dirs.
	Container *WhoseContainer `json:"container,omitempty"`
	// Image is set for image configs and metadata.
	Image *WhoseImage `json:"image,omitempty"`
}

// WhoseLayer is an image layer and who uses it.
type WhoseLayer struct {
	ChainID digest.Digest `json:"chain_id"`
	DiffID  digest.Digest `json:"diff_id"`
	Parent  digest.Digest `json:"parent,omitempty"`
	CacheID string        `json:"cache_id"`
	// Dir is the layer's dir (overlay2/<cache-id>, aufs/diff/<cache-id>).
	Dir string `json:"dir"`
	// Size is layerdb's size: Docker's content size of the layer.
	Size int64 `json:"size"`
	// Link is the layer's short name (l/<link>).
	Link string `json:"link,omitempty"`
	// Images are the images whose chain holds the layer.
	Images []WhoseImageUse `json:"images"`
	// Containers are the containers whose image holds the layer.
	Containers []WhoseContainer `json:"containers"`
	// BuildCache is set when BuildKit's snapshots.db also names the dir.
	BuildCache bool `json:"build_cache,omitempty"`
}

// WhoseImageUse is one image using a layer.
type WhoseImageUse struct {
	ID   digest.Digest `json:"id"`
	Tags []string      `json:"tags"`
	// Position is the layer's place in the image, 1 = base, of Layers.
	Position int `json:"position"`
	Layers   int `json:"layers"`
	// CreatedBy is the history entry that made the layer in this image.
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created,omitzero"`
}

// WhoseContainer is a container, as an owner or a user of a layer.
type WhoseContainer struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	State   string        `json:"state"`
	Image   string        `json:"image,omitempty"`
	ImageID digest.Digest `json:"image_id,omitempty"`
	// Driver is the storage driver the container was made with.
	Driver  string `json:"driver,omitempty"`
	MountID string `json:"mount_id,omitempty"`
	InitID  string `json:"init_id,omitempty"`
}

// WhoseImage is an image and who uses it.
type WhoseImage struct {
	ID     digest.Digest `json:"id"`
	Tags   []string      `json:"tags"`
	Layers int           `json:"layers"`
	// Children counts images built FROM it locally (imagedb parent).
	Children   int              `json:"children"`
	Containers []WhoseContainer `json:"containers"`
}

// WhoseLink is an l/<LINK> short link, read as text.
type WhoseLink struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	// LayerDir is the dir the target names; Dangling says it does not exist.
	LayerDir string `json:"layer_dir,omitempty"`
	Dangling bool   `json:"dangling"`
	// Error says why the link does not have the form the driver writes.
	Error string `json:"error,omitempty"`
}

// WhoseUsage is what a path holds: Size is Docker's content size (st_size
// of non-dirs, each inode once), DiskUsage allocated bytes, each inode
// once, the path itself included (what deleting it frees).
type WhoseUsage struct {
	Size      int64 `json:"size"`
	DiskUsage int64 `json:"disk_usage"`
}

// WhoseVerdict says whether deleting a path by hand is safe.
type WhoseVerdict struct {
	// Safe is "no", "yes" or "caution".
	Safe string `json:"safe"`
	// Reason says why, in words.
	Reason string `json:"reason"`
	// Instead is the Docker command that removes it properly, if any.
	Instead string `json:"instead,omitempty"`
}
