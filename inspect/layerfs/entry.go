package layerfs

import (
	"io/fs"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Type is the file type of an entry, named as dlayer prints it.
type Type string

// The file types of st_mode.
const (
	TypeFile    Type = "file"
	TypeDir     Type = "dir"
	TypeSymlink Type = "symlink"
	TypeFIFO    Type = "fifo"
	TypeSocket  Type = "socket"
	TypeChar    Type = "char"
	TypeBlock   Type = "block"
	TypeUnknown Type = "unknown"
)

// Stat is the part of struct stat dlayer uses.
type Stat struct {
	Mode   uint32 // st_mode: type and permission bits
	UID    uint32
	GID    uint32
	Rdev   uint64
	Dev    uint64
	Ino    uint64
	Nlink  uint64
	Size   int64
	Blocks int64 // 512-byte units
	Mtime  unix.Timespec
	Ctime  unix.Timespec
}

func statFrom(s *unix.Stat_t) Stat {
	return Stat{
		Mode: s.Mode, UID: s.Uid, GID: s.Gid, Rdev: s.Rdev, Dev: s.Dev, Ino: s.Ino,
		Nlink: uint64(s.Nlink), Size: s.Size, Blocks: s.Blocks, Mtime: s.Mtim, Ctime: s.Ctim,
	}
}

// StatOf is the Stat behind an fs.FileInfo from os.Lstat (or an Opener's
// Lstat); ok is false when fi carries none.
func StatOf(fi fs.FileInfo) (st Stat, ok bool) {
	s, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Stat{}, false
	}
	return Stat{
		Mode: s.Mode, UID: s.Uid, GID: s.Gid, Rdev: s.Rdev, Dev: s.Dev, Ino: s.Ino, Nlink: uint64(s.Nlink), Size: s.Size, Blocks: s.Blocks,
		Mtime: unix.Timespec{Sec: s.Mtim.Sec, Nsec: s.Mtim.Nsec}, Ctime: unix.Timespec{Sec: s.Ctim.Sec, Nsec: s.Ctim.Nsec},
	}, true
}

// Type returns the file type from the mode.
func (s Stat) Type() Type {
	switch s.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return TypeFile
	case unix.S_IFDIR:
		return TypeDir
	case unix.S_IFLNK:
		return TypeSymlink
	case unix.S_IFIFO:
		return TypeFIFO
	case unix.S_IFSOCK:
		return TypeSocket
	case unix.S_IFCHR:
		return TypeChar
	case unix.S_IFBLK:
		return TypeBlock
	}
	return TypeUnknown
}

// IsDir reports whether the entry is a directory.
func (s Stat) IsDir() bool { return s.Mode&unix.S_IFMT == unix.S_IFDIR }

// Perm returns the permission bits including setuid, setgid and sticky.
func (s Stat) Perm() uint32 { return s.Mode & 0o7777 }

// ModTime returns the mtime as a time.Time.
func (s Stat) ModTime() time.Time { return time.Unix(s.Mtime.Sec, s.Mtime.Nsec) }

// ChangeTime returns the ctime as a time.Time.
func (s Stat) ChangeTime() time.Time { return time.Unix(s.Ctime.Sec, s.Ctime.Nsec) }

// Kind says what an entry of a layer directory means to the union.
type Kind int

// The kinds of layer entries.
const (
	// Plain is an ordinary entry: file, dir, symlink, device, FIFO, socket.
	Plain Kind = iota
	// Whiteout deletes the entry of the same name in the layers below.
	Whiteout
	// Bookkeeping is a driver's own file (aufs .wh..wh.aufs, .wh..wh.plnk):
	// not part of the container's file system.
	Bookkeeping
)

// Entry is one name of a layer directory as the union sees it. For a
// whiteout, Name is the name of the deleted entry (for aufs that differs from
// the file's own name, which is RawName).
type Entry struct {
	Name    string
	RawName string
	Kind    Kind
	Stat    Stat
	// Opaque is set on a directory that hides everything below it in lower
	// layers (overlay xattr "overlay.opaque"=y, or aufs .wh..wh..opq).
	Opaque bool
	// Redirect is the overlay "overlay.redirect" xattr of a renamed
	// directory: where its lower content lives (absolute from the layer root,
	// or a name in the same parent directory).
	Redirect string
	// Metacopy is set on an overlay metadata-only copy-up: its data still
	// lives in a lower layer.
	Metacopy bool
	// Implied is set on a dir that the layer holds whether or not it
	// changed it, because its form keeps a whole tree (the legacy overlay
	// driver's root/ dirs): like Docker's diff of such a layer, the walk
	// counts it as the layer's change only when its metadata differs from
	// the lower dir's or something below it is the layer's.
	Implied bool
	// Origin is set when overlay recorded the lower inode this entry was
	// copied up from ("overlay.origin").
	Origin bool
	// Capability is the raw security.capability xattr (compared by docker
	// diff).
	Capability []byte
	// XattrForm names how a whiteout or opaque marker was stored, for
	// explanations: "char device 0/0", "trusted.overlay.whiteout",
	// "user.overlay.opaque", ".wh. file" and so on.
	XattrForm string
}

// Type is a shortcut for e.Stat.Type().
func (e Entry) Type() Type { return e.Stat.Type() }

// Format is what a storage driver knows about its layer directories.
type Format interface {
	// Lookup returns the entry named name in d; ok is false when d holds
	// nothing under that name (neither an entry nor a whiteout).
	Lookup(d *Dir, name string) (e Entry, ok bool, err error)
	// ReadDir returns the entries of d sorted by Name, whiteouts translated
	// and bookkeeping files included with Kind Bookkeeping.
	ReadDir(d *Dir) ([]Entry, error)
}

// AddedReader is a Format that can list a dir faster for a caller that
// only needs to tell the union's markers (whiteouts, opaque dirs,
// redirects) from plain entries: docker diff, below a dir it lists as
// added, where every plain entry is added whatever its xattrs.
// ReadDirAdded gives the entries ReadDir gives, markers the same, but may
// leave Capability, Metacopy and Origin unset on plain entries.
type AddedReader interface {
	ReadDirAdded(d *Dir) ([]Entry, error)
}

// ReadDirAdded is f.ReadDirAdded when f is an AddedReader, else ReadDir.
func ReadDirAdded(f Format, d *Dir) ([]Entry, error) {
	if a, ok := f.(AddedReader); ok {
		return a.ReadDirAdded(d)
	}
	return f.ReadDir(d)
}
