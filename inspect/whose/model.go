package whose

import (
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// Answer says what a path under the data root is, who owns it, and
// whether deleting it is safe.
type Answer struct {
	// Arg is the path as given; Path is it resolved lexically against the
	// data root (never through a symlink); Rel is Path relative to the
	// data root ("." for the root itself).
	Arg  string `json:"arg"`
	Path string `json:"path"`
	Rel  string `json:"rel"`
	// Exists says whether Path exists (lstat); Type is its file type.
	Exists bool         `json:"exists"`
	Type   layerfs.Type `json:"type,omitempty"`
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
	Link *Link `json:"link,omitempty"`
	// Owner is the object the path belongs to.
	Owner Owner `json:"owner"`
	// Entry is, for a path inside a layer's content dir, what the layer
	// holds there.
	Entry *Entry `json:"entry,omitempty"`
	// Views say, for a path inside a layer's content dir or mount point,
	// what each container (and image) using the layer sees there.
	Views []View `json:"views,omitempty"`
	// Usage is what the path holds, measured now; nil when not measured
	// (an image layer's size is Owner.Layer.Size).
	Usage *Usage `json:"usage,omitempty"`
	// Mounts are live mounts (mountinfo) that use the layer dir.
	Mounts []string `json:"mounts,omitempty"`
	// Verdict says whether deleting the path is safe, and why.
	Verdict Verdict `json:"verdict"`
	// Notes are facts worth knowing about this path.
	Notes    []string          `json:"notes,omitempty"`
	Findings []inspect.Finding `json:"findings"`
	// Terms are the words and traits of the driver of the store the path
	// was answered from, for reports.
	Terms backend.Terms `json:"-"`
}

// Owner is the object a path belongs to.
type Owner struct {
	Kind OwnerKind `json:"kind"`
	// ID is the owner's ID: a driver dir name, image ID or container ID.
	ID string `json:"id,omitempty"`
	// Why says what the owner is, for orphans, bookkeeping and Docker's
	// own files; for an orphan, why nothing owns it.
	Why string `json:"why,omitempty"`
	// Layer is set for image layers (and their layerdb records).
	Layer *Layer `json:"layer,omitempty"`
	// Container is set for rw and init layers, mount records and
	// container dirs.
	Container *Container `json:"container,omitempty"`
	// Image is set for image configs and metadata.
	Image *Image `json:"image,omitempty"`
}

// Layer is an image layer (the store's record of it) and who uses it.
type Layer struct {
	inspect.Layer
	// Dir is the layer's dir (overlay2/<cache-id>, aufs/diff/<cache-id>).
	Dir string `json:"dir"`
	// Link is the layer's short name (l/<link>).
	Link string `json:"link,omitempty"`
	// Images are the images whose chain holds the layer.
	Images []ImageUse `json:"images"`
	// Containers are the containers whose image holds the layer.
	Containers []Container `json:"containers"`
	// BuildCache is set when BuildKit's snapshots.db also names the dir.
	BuildCache bool `json:"build_cache,omitempty"`
}

// ImageUse is one image using a layer.
type ImageUse struct {
	ID   digest.Digest `json:"id"`
	Tags []string      `json:"tags"`
	// Position is the layer's place in the image, 1 = base, of Layers.
	Position int `json:"position"`
	Layers   int `json:"layers"`
	// CreatedBy is the history entry that made the layer in this image.
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created,omitzero"`
}

// Container is a container, as an owner or a user of a layer.
type Container struct {
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

// Image is an image and who uses it.
type Image struct {
	ID     digest.Digest `json:"id"`
	Tags   []string      `json:"tags"`
	Layers int           `json:"layers"`
	// Children counts images built FROM it locally (imagedb parent).
	Children   int         `json:"children"`
	Containers []Container `json:"containers"`
}

// Link is a short link (overlay2's l/<LINK>), read as text.
type Link struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	// LayerDir is the dir the target names; Dangling says it does not exist.
	LayerDir string `json:"layer_dir,omitempty"`
	Dangling bool   `json:"dangling"`
	// Error says why the link does not have the form the driver writes.
	Error string `json:"error,omitempty"`
}

// Usage is what a path holds: Size is Docker's content size (st_size of
// non-dirs, each inode once), DiskUsage allocated bytes, each inode once,
// the path itself included (what deleting it frees).
type Usage struct {
	Size      int64 `json:"size"`
	DiskUsage int64 `json:"disk_usage"`
}

// Verdict says whether deleting a path by hand is safe.
type Verdict struct {
	Safe Safe `json:"safe"`
	// Reason says why, in words.
	Reason string `json:"reason"`
	// Instead is the Docker command that removes it properly, if any.
	Instead string `json:"instead,omitempty"`
}
