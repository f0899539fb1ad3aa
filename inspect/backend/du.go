package backend

import "fmt"

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
	}
	return fmt.Sprintf("SizeRule(%d)", uint8(r))
}
