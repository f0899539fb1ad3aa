package backend

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
