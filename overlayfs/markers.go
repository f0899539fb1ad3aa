package overlayfs

import "github.com/dlayer/dlayer/inspect/layerfs"

// Markers are overlayfs's upper-dir markers (overlayfs.rst "whiteouts and
// opaque directories"), as moby's overlay whiteout converter makes them
// from a layer's tar: a whiteout is a char device 0/0 or a zero-size file
// with the overlay.whiteout xattr; an opaque dir has overlay.opaque "y".
type Markers struct{}

func (Markers) Xattrs() []string {
	var out []string
	for _, p := range prefixes() {
		out = append(out, p+"opaque", p+"whiteout")
	}
	return out
}

func (Markers) Whiteout(st layerfs.Stat, x map[string][]byte) bool {
	switch st.Type() {
	case layerfs.TypeChar:
		return st.Rdev == 0
	case layerfs.TypeFile:
		_, ok := markerXattr(x, "whiteout")
		return ok && st.Size == 0
	}
	return false
}

func (Markers) Opaque(x map[string][]byte) (string, bool) {
	v, _ := markerXattr(x, "opaque")
	return v, v == "y"
}

func (Markers) Forms() (whiteout, opaque string) { return "a whiteout (char 0/0)", "overlay.opaque=y" }

// RootFile: an overlayfs layer dir holds nothing of the driver's own.
func (Markers) RootFile(string) bool { return false }

// markerXattr returns the value of the overlay xattr key ("opaque",
// "whiteout") under either prefix.
func markerXattr(x map[string][]byte, key string) (string, bool) {
	for _, p := range prefixes() {
		if v, ok := x[p+key]; ok {
			return string(v), true
		}
	}
	return "", false
}
