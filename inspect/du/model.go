package du

import (
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// Report is the whole accounting of a data root. Every byte under the
// driver dir (overlay2/) is charged to exactly one of Layers, Containers
// (rw and init dirs), BuildCache, Orphans or Bookkeeping; the rest of the
// data root to Containers (their containers/<id>/ dirs) or Other.
type Report struct {
	// unaccounted is the usage of the driver's layer dirs that no record
	// names but that something in use refers to (each is a finding,
	// layer_dir_unaccounted): part of the driver dir, never reclaimable.
	unaccounted Usage

	Root   string `json:"root"`
	Driver string `json:"driver"`
	// DriverDir is the driver's home: <root>/overlay2 or <root>/aufs.
	DriverDir string `json:"driver_dir"`
	// OtherDrivers are the other drivers whose image stores the root
	// holds; their dirs are in InactiveDriver.
	OtherDrivers []string    `json:"other_drivers"`
	Summary      Summary     `json:"summary"`
	Images       []Image     `json:"images"`
	Layers       []Layer     `json:"layers"`
	Containers   []Container `json:"containers"`
	BuildCache   []Dir       `json:"build_cache"`
	Orphans      []Dir       `json:"orphans"`
	// Bookkeeping is the driver's own: the overlay2 dir itself and l/; the
	// aufs dir itself and its diff/, layers/ and mnt/ dirs.
	Bookkeeping []Dir `json:"bookkeeping"`
	// InactiveDriver is what belongs to another driver than the one
	// audited (a host migrated from aufs to overlay2): its home dir, and
	// the containers/<id>/ dirs of its containers. Disk usage and size.
	InactiveDriver []Dir `json:"inactive_driver"`
	// Other is every other top-level entry of the data root (image/,
	// buildkit/, volumes/, …) and the data root dir itself, and of a
	// store's own tree what no image or container owns (containerd's
	// meta.db, runtime state, other plugins' dirs): disk usage only.
	Other []Dir `json:"other"`
	// StoreRoot is the store's own tree beside the data root, when it
	// has one: containerd's root. Its content blobs are Blobs (those
	// nothing references are Orphans), its unfinished writes Ingest.
	StoreRoot string `json:"store_root,omitempty"`
	Blobs     []Blob `json:"blobs"`
	Ingest    []Dir  `json:"ingest"`
	// StackDirs are layer dirs in image stacks that are no image layer:
	// a classic build container's -init snapshot, which a RUN step's
	// layer sits on (containerd's store). They go with the images.
	StackDirs []Dir `json:"stack_dirs"`
	// Mounts are mount points met inside the walked trees (the merged dir
	// of a running container): not entered, as du -x.
	Mounts   []string          `json:"mounts"`
	Findings []inspect.Finding `json:"findings"`
	// OtherStores are the audits of the other stores of this root that
	// have a tree of their own (AuditAll: the containerd store beside an
	// overlay2 one), each a whole Report; they walk the data root too,
	// charging this store's dirs as another driver's.
	OtherStores []*Report `json:"other_stores,omitempty"`

	// Terms and Home are the driver's words and traits, and how its home
	// is laid out, for the report.
	Terms backend.Terms      `json:"-"`
	Home  backend.HomeLayout `json:"-"`
}

// Usage is the two numbers dlayer gives for everything.
type Usage struct {
	// Size is Docker's content size: st_size of every non-directory, each
	// inode once, symlinks by target length, whiteouts 0 (moby
	// pkg/directory.Size) — what docker system df reports.
	Size int64 `json:"size"`
	// DiskUsage is allocated bytes (st_blocks*512) of every entry,
	// directories included, each inode once in the whole audit — what du
	// reports and what deleting frees.
	DiskUsage int64 `json:"disk_usage"`
}

// Add returns u + v.
func (u Usage) Add(v Usage) Usage {
	return Usage{Size: u.Size + v.Size, DiskUsage: u.DiskUsage + v.DiskUsage}
}

// Layer is an image layer (a layerdb entry: its IDs and Size, the
// layerdb size file Docker adds up) and its driver dir.
type Layer struct {
	inspect.Layer
	Dir string `json:"dir"`
	// MeasuredSize is the same number recomputed from the layer's content
	// dir now, by the driver's rule (Terms.LayerSize: directory.Size of
	// diff/; on the legacy overlay driver the layer's own regular files in
	// root/); -1 when the dir is missing or could not be measured.
	MeasuredSize int64 `json:"measured_size"`
	DiskUsage    int64 `json:"disk_usage"`
	Files        int64 `json:"files"`
	// Images are the IDs of every image whose chain holds this layer.
	Images []digest.Digest `json:"images"`
	// Refcount is len(Images).
	Refcount int `json:"refcount"`
	// Shared is set when more than one counted image uses the layer
	// (Docker's SharedSize rule).
	Shared bool `json:"shared"`
	// Containers counts the containers whose image uses the layer.
	Containers int  `json:"containers"`
	Missing    bool `json:"missing"`
	// BuildCache is set when BuildKit's snapshots.db also names the dir.
	BuildCache bool `json:"build_cache,omitempty"`
}

// Image is an image of imagedb with Docker's size numbers.
type Image struct {
	ID   digest.Digest `json:"id"`
	Tags []string      `json:"tags"`
	// Dangling: no tag and no child image.
	Dangling bool `json:"dangling"`
	// Counted: listed by docker system df (tagged, or without children).
	Counted  bool            `json:"counted"`
	Parent   digest.Digest   `json:"parent,omitempty"`
	Children int             `json:"children"`
	Layers   []digest.Digest `json:"layers"` // chain IDs, base first
	Created  time.Time       `json:"created"`
	// Size is the sum of the chain's layerdb sizes; SharedSize the part in
	// layers another counted image uses; UniqueSize = Size - SharedSize.
	Size       int64 `json:"size"`
	SharedSize int64 `json:"shared_size"`
	UniqueSize int64 `json:"unique_size"`
	// DiskUsage is the disk usage of its layer dirs; UniqueDiskUsage of
	// those no other image uses (what removing it alone would free).
	DiskUsage       int64 `json:"disk_usage"`
	UniqueDiskUsage int64 `json:"unique_disk_usage"`
	Containers      int   `json:"containers"`
	// MissingLayers are chain IDs whose layerdb entry or dir is missing.
	MissingLayers []digest.Digest `json:"missing_layers,omitempty"`
}

// Container is a container with its rw and init layers and its dir.
type Container struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	Image   string        `json:"image"`
	ImageID digest.Digest `json:"image_id"`
	State   string        `json:"state"`
	MountID string        `json:"mount_id"`
	InitID  string        `json:"init_id"`
	// SizeRw is Docker's, by the driver's rule (Terms.RWSize): the size
	// of the upper dir (diff/), or, on the legacy overlay driver, of what
	// docker diff lists as added or changed.
	SizeRw int64 `json:"size_rw"`
	// SizeRootFs is SizeRw + the image's Size.
	SizeRootFs int64 `json:"size_root_fs"`
	// DiskUsage is the rw dir's (upper + work), InitSize and
	// InitDiskUsage the init layer's.
	DiskUsage     int64 `json:"disk_usage"`
	InitSize      int64 `json:"init_size"`
	InitDiskUsage int64 `json:"init_disk_usage"`
	// Dir is containers/<id>/: its Usage, and the json-file logs in it.
	Dir          string `json:"dir"`
	DirUsage     Usage  `json:"dir_usage"`
	LogUsage     Usage  `json:"log_usage"`
	LogFiles     int64  `json:"log_files"`
	RWMissing    bool   `json:"rw_missing,omitempty"`
	InitMissing  bool   `json:"init_missing,omitempty"`
	MountMissing bool   `json:"mount_missing,omitempty"`
}

// Dir is a directory (or stray file) charged as a whole: a build cache
// snapshot, an orphan, driver bookkeeping, another part of the data root.
type Dir struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Usage
	Files int64 `json:"files"`
	// Why says, for an orphan, why nothing owns it; for the others, what
	// it is.
	Why      string    `json:"why,omitempty"`
	Modified time.Time `json:"modified,omitzero"`
}

// Blob is a blob of the store's content store (containerd's), and what
// keeps it alive.
type Blob struct {
	Digest digest.Digest `json:"digest"`
	Path   string        `json:"path"`
	Usage
	// Role is "blob" (an image references it) or "held" (only a lease,
	// another namespace or a gc root does).
	Role string `json:"role"`
	// What it is to its images: manifest, index, config, layer.
	What string `json:"what,omitempty"`
	// Images reference it (their IDs, sorted); Holders keep it besides
	// them ("lease <id>", "namespace <name>").
	Images  []digest.Digest `json:"images"`
	Holders []string        `json:"holders,omitempty"`
	Why     string          `json:"why,omitempty"`
}

// Group is one line of the summary.
type Group struct {
	// Count is the number of owners of this kind; for images, those
	// docker system df lists (Image.Counted).
	Count int `json:"count"`
	// Active: images used by a container, containers running.
	Active int `json:"active"`
	Usage
	Reclaimable Usage `json:"reclaimable"`
}

// Summary is the default view: each kind of owner, the totals, and what
// removing dangling images, stopped containers and orphans would free.
type Summary struct {
	Images        Group `json:"images"`
	Containers    Group `json:"containers"`
	ContainerDirs Group `json:"container_dirs"`
	BuildCache    Group `json:"build_cache"`
	Orphans       Group `json:"orphans"`
	Bookkeeping   Group `json:"bookkeeping"`
	// InactiveDriver is the other drivers' dirs (Report.InactiveDriver).
	InactiveDriver Group `json:"inactive_driver"`
	Other          Group `json:"other"`
	// Content is the store's content blobs that something keeps alive
	// (Report.Blobs); Ingest its unfinished writes; StackDirs the dirs in
	// image stacks that are no layer. Zero for a graph driver's store.
	Content   Group `json:"content"`
	Ingest    Group `json:"ingest"`
	StackDirs Group `json:"stack_dirs"`
	// DataRoot is everything under the data root (du -sx of it);
	// StoreTree everything under the store's own tree (du -sx of
	// containerd's root). Total is both, each inode once.
	DataRoot  Usage `json:"data_root"`
	StoreTree Usage `json:"store_tree"`
	// DriverDir is everything under the driver home (overlay2/, aufs/):
	// equals du -sx of it.
	DriverDir Usage `json:"driver_dir"`
	// Total is everything audited: the data root and the store's own
	// tree; for a graph driver's store it equals du -sx of the data root.
	Total       Usage `json:"total"`
	Reclaimable Usage `json:"reclaimable"`
	// Files counts every entry walked.
	Files int64 `json:"files"`
	// SparseFiles have fewer blocks than their size; SparseBytes is the
	// size they do not occupy on disk.
	SparseFiles int64 `json:"sparse_files"`
	SparseBytes int64 `json:"sparse_bytes"`
	// HardlinkedInodes have more than one name; ExtraLinks is the number
	// of names beyond the first, which du and dlayer count once.
	HardlinkedInodes int64 `json:"hardlinked_inodes"`
	ExtraLinks       int64 `json:"extra_links"`
}
