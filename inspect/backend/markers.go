package backend

import "github.com/dlayer/dlayer/inspect/layerfs"

// Markers is how a driver keeps the whiteouts (".wh.<name>") and opaque
// markers (".wh..wh..opq") of a layer's tar in the layer dir, for the
// checks that reconcile the dir with the tar.
//
// A driver whose Terms().WhiteoutFiles is set keeps them as the tar's own
// files, under their own names (aufs): they are checked like any other
// entry of the tar, and only RootFile applies. Otherwise the driver
// converts them as moby's overlay whiteout converter does: a whiteout
// becomes a whiteout entry at the deleted name, an opaque marker an xattr
// of its dir.
type Markers interface {
	// Xattrs lists the xattrs that can mark an entry, for a reader to
	// gather with each entry's others.
	Xattrs() []string
	// Whiteout reports whether the entry of stat st, with the marker
	// xattrs x it has (among Xattrs), is a converted whiteout.
	Whiteout(st layerfs.Stat, x map[string][]byte) bool
	// Opaque returns a dir's opaque xattr value ("" when it has none) and
	// whether that value makes the dir opaque.
	Opaque(x map[string][]byte) (value string, opaque bool)
	// Forms name a converted whiteout and opaque dir for messages
	// ("a whiteout (char 0/0)", "overlay.opaque=y").
	Forms() (whiteout, opaque string)
	// RootFile reports whether name, at the root of a layer dir, is the
	// driver's own file (aufs's .wh..wh.aufs, .wh..wh.plnk), not the
	// layer's.
	RootFile(name string) bool
}
