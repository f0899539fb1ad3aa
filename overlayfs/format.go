package overlayfs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// The xattr prefixes overlayfs uses: trusted.overlay. by default,
// user.overlay. when mounted with userxattr (rootless Docker).
func prefixes() []string { return []string{"trusted.overlay.", "user.overlay."} }

// Format reads overlayfs upper directories (and layer directories stored
// in the same forms, as overlay2 extracts image layers). It implements
// layerfs.Format.
type Format struct{}

// Lookup classifies the entry name of d.
//
// Whiteouts (overlayfs.rst "whiteouts and opaque directories") are a
// character device 0/0, or — made by userspace on newer kernels — a
// zero-size regular file carrying the overlay.whiteout xattr. A directory
// is opaque when its overlay.opaque xattr is "y" (the value "x" marks a
// directory that merely holds xattr whiteouts, and is not opaque).
func (Format) Lookup(d *layerfs.Dir, name string) (layerfs.Entry, bool, error) {
	return lookup(d, name, true)
}

// lookup is Lookup; without all, a regular file that is not empty (and so
// cannot be a whiteout) gets no xattr read (see ReadDirAdded).
func lookup(d *layerfs.Dir, name string, all bool) (layerfs.Entry, bool, error) {
	st, ok, err := d.Lstat(name)
	if err != nil || !ok {
		return layerfs.Entry{}, false, err
	}
	e := layerfs.Entry{Name: name, RawName: name, Stat: st}
	t := st.Type()
	if t == layerfs.TypeChar && st.Rdev == 0 {
		e.Kind = layerfs.Whiteout
		e.XattrForm = "char device 0/0"
		return e, true, nil
	}
	if t != layerfs.TypeFile && t != layerfs.TypeDir || !all && t == layerfs.TypeFile && st.Size > 0 {
		return e, true, nil
	}
	attrs, err := d.Xattrs(name)
	if err != nil {
		return e, true, err
	}
	for _, a := range attrs {
		if a == "security.capability" {
			v, _, err := d.Xattr(name, a)
			if err != nil {
				return e, true, err
			}
			e.Capability = v
			continue
		}
		key, ok := overlayKey(a)
		if !ok {
			continue
		}
		switch {
		case key == "whiteout" && t == layerfs.TypeFile && st.Size == 0:
			e.Kind = layerfs.Whiteout
			e.XattrForm = a
		case key == "opaque" && t == layerfs.TypeDir:
			v, _, err := d.Xattr(name, a)
			if err != nil {
				return e, true, err
			}
			if string(v) == "y" {
				e.Opaque = true
				e.XattrForm = a
			}
		case key == "redirect" && t == layerfs.TypeDir:
			v, _, err := d.Xattr(name, a)
			if err != nil {
				return e, true, err
			}
			e.Redirect = string(v)
		case key == "metacopy" && t == layerfs.TypeFile:
			e.Metacopy = true
		case key == "origin":
			e.Origin = true
		}
	}
	return e, true, nil
}

// ReadDir lists d sorted by name.
func (f Format) ReadDir(d *layerfs.Dir) ([]layerfs.Entry, error) {
	return readDir(d, true)
}

// ReadDirAdded lists d sorted by name for a caller that needs only the
// union's markers (layerfs.AddedReader): whiteouts, opaque dirs and
// redirects are classified as by ReadDir, but a regular file of non-zero
// size, which cannot be a whiteout, gets no xattr read — its capability,
// metacopy and origin are left unset. docker diff lists every entry below
// an added dir as added whatever those say.
func (f Format) ReadDirAdded(d *layerfs.Dir) ([]layerfs.Entry, error) {
	return readDir(d, false)
}

func readDir(d *layerfs.Dir, all bool) ([]layerfs.Entry, error) {
	names, err := d.Names()
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]layerfs.Entry, 0, len(names))
	for _, n := range names {
		e, ok, err := lookup(d, n, all)
		if err != nil {
			return out, fmt.Errorf("%s: %w", d.Path, err)
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func overlayKey(attr string) (string, bool) {
	for _, p := range prefixes() {
		if strings.HasPrefix(attr, p) {
			return attr[len(p):], true
		}
	}
	return "", false
}
