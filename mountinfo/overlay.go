package mountinfo

import (
	"path/filepath"
	"strings"
)

// Overlay holds the super options of an overlay mount as the kernel
// prints them (fs/overlayfs/params.c, ovl_show_options), with the layer
// paths split and decoded.
//
// The kernel prints the layer paths exactly as the mounting process gave
// them. Docker's overlay2 driver gives absolute paths, except when the
// option string would exceed a page: then it mounts from inside its
// home directory with relative paths ("lowerdir=l/ABC:l/DEF,
// upperdir=<id>/diff,workdir=<id>/work"; moby
// daemon/graphdriver/overlay2/mount.go, mountFrom). Relative paths are
// relative to that process's working directory, which mountinfo does not
// record; see [Overlay.Resolve].
//
// The feature switches are strings because the kernel prints one only
// when it differs from the kernel's default: "" means "not shown, so the
// default of that kernel", not "off".
type Overlay struct {
	// LowerDirs are the regular lower layers, uppermost first, decoded
	// ("\:" and "\," escapes of lowerdir= undone).
	LowerDirs []string
	// DataDirs are the data-only lower layers (after "::" in lowerdir=,
	// or datadir+=), which only metacopy redirects can reach.
	DataDirs []string
	// UpperDir is the writable layer; "" for a read-only overlay.
	UpperDir string
	// WorkDir is the kernel's scratch dir beside UpperDir.
	WorkDir string

	// Index is the index= switch: "on", "off" or "" (not shown).
	Index string
	// Metacopy is the metacopy= switch: "on", "off" or "".
	Metacopy string
	// RedirectDir is redirect_dir=: "on", "follow", "nofollow", "off"
	// or "".
	RedirectDir string
	// Xino is xino=: "on", "auto", "off" or "".
	Xino string
	// UUID is uuid=: "on", "auto", "null", "off" or "".
	UUID string
	// NFSExport is nfs_export=: "on", "off" or "".
	NFSExport string
	// Verity is verity=: "on", "require", "off" or "".
	Verity string
	// UserXattr is set by "userxattr": markers use the "user.overlay."
	// xattr prefix instead of "trusted.overlay." (rootless mounts).
	UserXattr bool
	// Volatile is set by "volatile": the upper layer is never synced.
	Volatile bool
	// DefaultPermissions is set by "default_permissions".
	DefaultPermissions bool
	// ReadOnly is set when the options carry "ro".
	ReadOnly bool
	// AddForm is true when the lower layers were given as repeated
	// "lowerdir+=" / "datadir+=" options (new mount API). Those values
	// are paths taken literally: no ':' splitting, no backslash escapes.
	AddForm bool

	// Other holds every option not described above ("rw" excepted),
	// decoded, in order.
	Other []Option
	// Raw is the string given to ParseOverlay.
	Raw string
}

// ParseOverlay parses the super options of an overlay mount exactly as
// mountinfo shows them ([Mount.SuperOptionsRaw]), octal escapes included:
// the kernel escapes ',' '=' space tab newline and backslash inside
// option values, so the string splits safely at ','.
//
// Errors wrap [ErrMalformed]: a bad escape, an empty or badly separated
// lowerdir list (empty entry, leading or trailing ':', ":::"), a regular
// layer after a data layer, lowerdir= mixed with lowerdir+=, a repeated
// path option, an empty path, or no lower layer at all.
func ParseOverlay(superOptions string) (Overlay, error) {
	o := Overlay{Raw: superOptions}
	if superOptions == "" {
		return Overlay{}, malformed("empty overlay options")
	}
	var plainLower bool
	seen := map[string]bool{}
	for part := range strings.SplitSeq(superOptions, ",") {
		rawKey, rawVal, hasVal := strings.Cut(part, "=")
		key, err := unescape(rawKey, true)
		if err != nil {
			return Overlay{}, err
		}
		val, err := unescape(rawVal, true)
		if err != nil {
			return Overlay{}, err
		}
		if sw := o.switchField(key); sw != nil {
			if !hasVal || val == "" {
				return Overlay{}, malformed("option %q needs a value", key)
			}
			*sw = val
			continue
		}
		if fl := o.flagField(key); fl != nil {
			if hasVal {
				return Overlay{}, malformed("option %q takes no value", key)
			}
			*fl = true
			continue
		}
		switch key {
		case "rw":
			if hasVal {
				o.Other = append(o.Other, Option{Key: key, Value: val, HasValue: true})
			}
		case "lowerdir", "upperdir", "workdir":
			if seen[key] {
				return Overlay{}, malformed("%s= given twice", key)
			}
			seen[key] = true
			if val == "" {
				return Overlay{}, malformed("empty %s=", key)
			}
			if key == "lowerdir" {
				if o.AddForm {
					return Overlay{}, malformed("lowerdir= mixed with lowerdir+=/datadir+=")
				}
				plainLower = true
				if o.LowerDirs, o.DataDirs, err = splitLowerdir(val); err != nil {
					return Overlay{}, err
				}
				continue
			}
			p := unescapeOverlay(val)
			if p == "" {
				return Overlay{}, malformed("empty %s= after unescaping", key)
			}
			if key == "upperdir" {
				o.UpperDir = p
			} else {
				o.WorkDir = p
			}
		case "lowerdir+", "datadir+":
			if plainLower {
				return Overlay{}, malformed("%s= mixed with lowerdir=", key)
			}
			if val == "" {
				return Overlay{}, malformed("empty %s=", key)
			}
			o.AddForm = true
			if key == "datadir+" {
				if len(o.LowerDirs) == 0 {
					return Overlay{}, malformed("datadir+= before any lowerdir+=")
				}
				o.DataDirs = append(o.DataDirs, val)
				continue
			}
			if len(o.DataDirs) > 0 {
				return Overlay{}, malformed("lowerdir+= after datadir+=")
			}
			o.LowerDirs = append(o.LowerDirs, val)
		default:
			o.Other = append(o.Other, Option{Key: key, Value: val, HasValue: hasVal})
		}
	}
	if len(o.LowerDirs) == 0 {
		return Overlay{}, malformed("no lower layer")
	}
	return o, nil
}

// switchField returns the field of an enumerated option, or nil.
func (o *Overlay) switchField(key string) *string {
	switch key {
	case "index":
		return &o.Index
	case "metacopy":
		return &o.Metacopy
	case "redirect_dir":
		return &o.RedirectDir
	case "xino":
		return &o.Xino
	case "uuid":
		return &o.UUID
	case "nfs_export":
		return &o.NFSExport
	case "verity":
		return &o.Verity
	}
	return nil
}

// flagField returns the field of a flag option, or nil.
func (o *Overlay) flagField(key string) *bool {
	switch key {
	case "userxattr":
		return &o.UserXattr
	case "volatile":
		return &o.Volatile
	case "default_permissions":
		return &o.DefaultPermissions
	case "ro":
		return &o.ReadOnly
	}
	return nil
}

// Resolve returns a copy of o with every relative layer path joined to
// base, the directory the mounting process was in. For Docker's overlay2
// that is the driver home as the daemon saw it when it mounted
// ("/var/lib/docker/overlay2"), which is not necessarily where a copied
// store lives now. Absolute paths and Raw are left as they are.
func (o Overlay) Resolve(base string) Overlay {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	absAll := func(ps []string) []string {
		if ps == nil {
			return nil
		}
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = abs(p)
		}
		return out
	}
	r := o
	r.LowerDirs = absAll(o.LowerDirs)
	r.DataDirs = absAll(o.DataDirs)
	r.UpperDir = abs(o.UpperDir)
	r.WorkDir = abs(o.WorkDir)
	r.Other = append([]Option(nil), o.Other...)
	return r
}

// Relative reports whether any layer path is relative, i.e. whether
// [Overlay.Resolve] is needed before the paths can be used.
func (o Overlay) Relative() bool {
	for _, ps := range [][]string{o.LowerDirs, o.DataDirs, {o.UpperDir, o.WorkDir}} {
		for _, p := range ps {
			if p != "" && !filepath.IsAbs(p) {
				return true
			}
		}
	}
	return false
}
