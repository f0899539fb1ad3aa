package verify

import (
	"fmt"
	"path"
	"strings"
)

// role is what a tar header means once the driver has extracted it
// (moby pkg/archive Unpack, with the overlay whiteout converter for a
// driver that converts the markers).
type role int

const (
	rolePlain    role = iota // an entry extracted as is
	roleSkip                 // not on disk: the root "." entry, PAX global headers, ".wh..wh." metadata at the root
	roleWhiteout             // ".wh.X": deletes X (a whiteout entry X when converted)
	roleOpaque               // ".wh..wh..opq": makes its dir opaque (an xattr of the dir when converted)
)

// String names the role.
func (r role) String() string {
	switch r {
	case rolePlain:
		return "plain"
	case roleSkip:
		return "skip"
	case roleWhiteout:
		return "whiteout"
	case roleOpaque:
		return "opaque"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// The marker names of a layer's tar (moby pkg/archive whiteouts.go).
const (
	whiteoutPrefix = ".wh."                  // ".wh.X" deletes X
	whiteoutMeta   = whiteoutPrefix + ".wh." // metadata, never extracted as such
	whiteoutOpaque = whiteoutMeta + ".opq"   // in a dir: the dir is opaque
)

// tarMarker says what a base name of the tar marks, as a driver that
// keeps the markers as files sees it: the opaque marker, a whiteout of
// target, other metadata (roleSkip), or nothing (rolePlain).
func tarMarker(base string) (r role, target string) {
	switch {
	case base == whiteoutOpaque:
		return roleOpaque, ""
	case strings.HasPrefix(base, whiteoutMeta):
		return roleSkip, ""
	case strings.HasPrefix(base, whiteoutPrefix) && len(base) > len(whiteoutPrefix):
		return roleWhiteout, base[len(whiteoutPrefix):]
	}
	return rolePlain, ""
}

// markerFile names a missing or extra marker file for what it is, for a
// driver that keeps a layer's whiteouts and opaque markers as the tar's
// own files (Terms().WhiteoutFiles): a whiteout is the file ".wh.X" and
// an opaque dir holds the file ".wh..wh..opq", checked like any other
// entry of the tar.
func markerFile(f Finding) Finding {
	r, target := tarMarker(path.Base(f.Path))
	if r != roleWhiteout && r != roleOpaque {
		return f
	}
	switch {
	case f.Kind == KindEntryMissing && r == roleOpaque:
		f.Kind, f.Message = KindOpaqueMissing, "the layer made this dir opaque (.wh..wh..opq), but the marker file is gone: the lower layers' entries show through again"
	case f.Kind == KindEntryMissing:
		f.Kind, f.Message = KindWhiteoutMissing, fmt.Sprintf("the layer deletes %s (.wh. file), but the whiteout is gone: the deleted lower entry shows again", target)
	case f.Kind == KindExtraFile && r == roleOpaque:
		f.Kind, f.Message = KindOpaqueExtra, "an opaque marker the layer never had: the dir hides every lower layer's entries below it"
	case f.Kind == KindExtraFile:
		f.Kind, f.Message = KindWhiteoutExtra, fmt.Sprintf("a whiteout the layer never had: it hides %s of the lower layers in every image and container built on this layer", target)
	}
	return f
}
