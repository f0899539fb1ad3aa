package mountinfo

import "strings"

// Mount is one line of a mountinfo file. Field order and meaning follow
// proc_pid_mountinfo(5); paths are decoded (the kernel's \ooo escapes
// undone), everything else is kept as the kernel wrote it.
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	(1)(2) (3)  (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
type Mount struct {
	// Line is the 1-based line number the mount was read from, for
	// findings that cite their source.
	Line int

	// MountID is field 1: a unique ID for the mount (may be reused
	// after umount).
	MountID int
	// ParentID is field 2: the ID of the parent mount, or of the mount
	// itself for the root of the mount namespace. It may name a mount
	// that is not listed (outside the reader's chroot).
	ParentID int
	// MajorMinor is field 3 verbatim, "major:minor": the st_dev of
	// files on this filesystem.
	MajorMinor string
	// Major and Minor are MajorMinor's two numbers.
	Major, Minor uint32

	// Root is field 4, decoded: the directory of the filesystem that is
	// mounted here ("/" for a whole filesystem, a sub-path for a bind
	// mount). A bind mount of a deleted file shows "<path>//deleted";
	// pseudo filesystems show names such as "net:[4026532181]".
	Root string
	// MountPoint is field 5, decoded: where the mount is, relative to
	// the reading process's root.
	MountPoint string
	// Options is field 6 split at commas: the per-mount options
	// ("rw", "nosuid", "relatime", ...).
	Options []string

	// OptionalFields are fields 7.. up to the "-" separator, verbatim
	// ("shared:1", "master:2", "propagate_from:1", "unbindable", or a
	// tag a newer kernel adds).
	OptionalFields []string
	// Shared is the peer group N of "shared:N", 0 when not shared.
	Shared int
	// Master is the peer group N of "master:N", 0 when not a slave.
	Master int
	// PropagateFrom is N of "propagate_from:N", 0 when absent.
	PropagateFrom int
	// Unbindable is true when the "unbindable" tag is present.
	Unbindable bool

	// FSType is the field after the separator, e.g. "overlay", "ext4",
	// "fuse.sshfs".
	FSType string
	// Source is the next field, decoded: the device or "none"/"overlay";
	// it may be empty.
	Source string
	// SuperOptions are the per-superblock options in the kernel's
	// order, split at commas and at the first '=', each part decoded.
	// Repeated keys (overlay's "lowerdir+") are all kept.
	SuperOptions []Option
	// SuperOptionsRaw is the last field exactly as the kernel wrote it,
	// escapes included. Pass it to [ParseOverlay].
	SuperOptionsRaw string
}

// Option is one per-superblock option, "Key" or "Key=Value".
type Option struct {
	// Key is the option name, e.g. "lowerdir" or "lowerdir+".
	Key string
	// Value is the text after the first '=', decoded; "" for a flag.
	Value string
	// HasValue tells "key=" (true, empty Value) from "key" (false).
	HasValue bool
}

// SuperOption returns the value of the last super option named key, and
// whether one was present. Later options win, as in the kernel's own
// option parsing.
func (m Mount) SuperOption(key string) (string, bool) {
	for i := len(m.SuperOptions) - 1; i >= 0; i-- {
		if m.SuperOptions[i].Key == key {
			return m.SuperOptions[i].Value, true
		}
	}
	return "", false
}

// HasOption reports whether the per-mount options contain opt
// (e.g. "ro").
func (m Mount) HasOption(opt string) bool {
	for _, o := range m.Options {
		if o == opt {
			return true
		}
	}
	return false
}

// Propagation describes the mount's propagation type the way findmnt(8)
// prints it: "shared" or "private", then ",slave" when it has a master
// and ",unbindable" when unbindable, e.g. "shared,slave" for
// "shared:1 master:2" and "private,slave" for "master:2" alone.
func (m Mount) Propagation() string {
	var b strings.Builder
	if m.Shared != 0 {
		b.WriteString("shared")
	} else {
		b.WriteString("private")
	}
	if m.Master != 0 {
		b.WriteString(",slave")
	}
	if m.Unbindable {
		b.WriteString(",unbindable")
	}
	return b.String()
}

// Overlay parses the super options of an overlay mount. It returns
// ErrNotOverlay when FSType is not "overlay".
func (m Mount) Overlay() (Overlay, error) {
	if m.FSType != "overlay" {
		return Overlay{}, ErrNotOverlay
	}
	return ParseOverlay(m.SuperOptionsRaw)
}
