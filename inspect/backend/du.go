package backend

import (
	"fmt"

	"github.com/opencontainers/go-digest"
)

// HomeLayout describes a driver's home for an audit that charges every
// entry of it to an owner (dlayer du), and names its parts for reports.
type HomeLayout struct {
	// LayerDirs are the dirs of the home whose entries each belong to one
	// layer dir id (the id Driver.Layout takes: cache-id, mount-id,
	// <mount-id>-init), content dir first. An entry's name is that id.
	LayerDirs []LayerDir
	// Bookkeeping names the driver's own entries of its home in a summary
	// line: "l/" (overlay2), "aufs/ dirs".
	Bookkeeping string
	// LinkForm says how a short link names a layer's content, with
	// <link> and <cache id> for the names: "l/<link> -> ../<cache id>/diff";
	// "" for a driver without short links.
	LinkForm string
}

// LayerDir is a dir of a driver's home whose entries are named by layer
// dir ids.
type LayerDir struct {
	// Rel is the dir's name below the home, one path component; "" is the
	// home itself (overlay2/<id>).
	Rel string
	// Content is set for the dir whose entries hold the layers' files
	// (overlay2/<id>, aufs/diff/<id>); the entries of the other dirs
	// (aufs/layers/<id>, aufs/mnt/<id>) are the driver's other files of a
	// layer, which count toward disk usage only.
	Content bool
	// ContentSubdir is, in the content dir, the subdir of an entry that
	// holds the layer's files ("diff": overlay2/<id>/diff); "" when the
	// whole entry does (aufs/diff/<id>).
	ContentSubdir string
}

// Content returns the dir of layer entries that holds the layers' files.
func (h HomeLayout) Content() (LayerDir, bool) {
	for _, d := range h.LayerDirs {
		if d.Content {
			return d, true
		}
	}
	return LayerDir{}, false
}

// ShortLinkEntry is one of a driver's short links, read as text (never
// followed).
type ShortLinkEntry struct {
	// Name is the link's name; Path where it is.
	Name, Path string
	// ID is the layer dir id it names and Target the link's text
	// ("../<id>/diff"); both empty when Err says why it does not resolve.
	ID, Target string
	Err        error
}

// SizeRule is how Docker computed a content size: an image layer's
// (layerdb's size file) or a container's SizeRw (/system/df). The numbers
// dlayer measures follow the driver's rule, so that they equal Docker's.
type SizeRule uint8

const (
	// SizeDirectory is moby's directory.Size of the content dir: st_size
	// of every non-directory, each inode once, a symlink by the length of
	// its target, a whiteout 0 (overlay2, aufs: their DiffSize and
	// ApplyDiff).
	SizeDirectory SizeRule = iota
	// SizeChanges is moby's archive.ChangesSize of the container's changes
	// (graphdriver.NaiveDiffDriver.DiffSize): st_size of the
	// non-directories `docker diff` lists as added or changed, each inode
	// once. Copies of lower files that changed nothing, and the dirs, do
	// not count.
	SizeChanges
	// SizeTarFiles is what archive.UnpackLayer counted as it applied the
	// layer's tar: the sum of its headers' sizes, that is the bytes of its
	// regular files (hardlinks, symlinks, dirs and whiteouts are 0). On
	// disk it is the layer's own regular files as the driver's Format
	// reads them, each inode once.
	SizeTarFiles
	// SizeUsage is containerd's fs.DiskUsage of the content dir (its
	// snapshotter's Usage): the allocated bytes (st_blocks*512) of the dir
	// and of every entry below it, dirs included, each inode once. A
	// committed snapshot's recorded size is this number at commit; a
	// container's SizeRw is it now.
	SizeUsage
)

// String names the rule, for messages and tests.
func (r SizeRule) String() string {
	switch r {
	case SizeDirectory:
		return "directory"
	case SizeChanges:
		return "changes"
	case SizeTarFiles:
		return "tar_files"
	case SizeUsage:
		return "usage"
	}
	return fmt.Sprintf("SizeRule(%d)", uint8(r))
}

// StoreTree is a Metadata whose store keeps its files in a tree of its
// own beside the data root (containerd's root): the driver home lies in
// it, and so do the store's content blobs, its metadata and its other
// state. An audit walks it as it walks the data root and asks the store
// what each entry is.
type StoreTree interface {
	// Tree says where the tree is and which of its dirs have entries an
	// audit charges one by one.
	Tree() Tree
	// Charge says what entry name of the tree dir rel ("" for the root,
	// else a TreeDir's Rel) is.
	Charge(rel, name string) TreeCharge
}

// Tree is a store's own tree.
type Tree struct {
	// Root is the tree's root dir (containerd's --root).
	Root string
	// Dirs are the dirs of the tree whose entries an audit charges one by
	// one (each its path below Root, slash-separated), a parent before its
	// children; every other entry is charged as a whole. The driver home
	// is not among them: it is the home, laid out as HomeLayout says.
	Dirs []TreeDir
}

// TreeDir is a dir of a store's tree whose entries are charged one by one.
type TreeDir struct {
	// Rel is its path below the tree's root.
	Rel string
	// What says what the dir is, for reports ("the content store's
	// blobs").
	What string
}

// TreeRole is what an entry of a store's tree is to an audit.
type TreeRole uint8

const (
	// TreeOther is a part of the store's tree that no image or container
	// owns (runtime state, empty plugin dirs): disk usage only.
	TreeOther TreeRole = iota
	// TreeMetadata is the store's own bookkeeping (meta.db).
	TreeMetadata
	// TreeBlob is a content blob that an image references (a manifest,
	// index, config or compressed layer).
	TreeBlob
	// TreeHeld is a content blob no image of the namespace references
	// that something else keeps alive: a lease (BuildKit's cache, a pull
	// in flight), another namespace, a gc root label. Never reclaimable.
	TreeHeld
	// TreeIngest is an unfinished write of a blob (ingest/<ref>): a pull
	// or build in flight, or one that was interrupted.
	TreeIngest
	// TreeOrphan is a blob nothing references: the store's garbage
	// collector removes it.
	TreeOrphan
)

// String names the role, for JSON and tests.
func (r TreeRole) String() string {
	switch r {
	case TreeOther:
		return "other"
	case TreeMetadata:
		return "metadata"
	case TreeBlob:
		return "blob"
	case TreeHeld:
		return "held"
	case TreeIngest:
		return "ingest"
	case TreeOrphan:
		return "orphan"
	}
	return fmt.Sprintf("TreeRole(%d)", uint8(r))
}

// TreeCharge is what a store says one entry of its tree is.
type TreeCharge struct {
	Role TreeRole
	// Why says what it is, in words ("manifest of 2 images", "held by
	// lease 3kx…").
	Why string
	// Blob is the blob's digest (TreeBlob, TreeHeld, TreeOrphan); What
	// what it is to its images ("manifest", "config", "layer", "index").
	Blob digest.Digest
	What string
	// Images are the images it is content of, sorted.
	Images []digest.Digest
	// Holders are what keeps it alive besides images (TreeHeld): leases
	// ("lease <id>"), other namespaces ("namespace k8s.io").
	Holders []string
}
