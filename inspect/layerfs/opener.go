package layerfs

import (
	"fmt"
	"golang.org/x/sys/unix"
	"io/fs"
	"os"
	"strings"
)

// Opener is the one way dlayer reads a store's metadata under a data
// root: small files (bounded, regular files only, never through a
// symlink), directory listings and stats. The store, its backends and
// its features read through the Opener they were given, so a test can
// count every read and a stricter opener can confine them all.
type Opener interface {
	// ReadFile reads the whole regular file at path, of at most max bytes.
	ReadFile(path string, max int64) ([]byte, error)
	// ReadDir lists the directory at path, sorted by name.
	ReadDir(path string) ([]fs.DirEntry, error)
	// Lstat stats path without following a final symlink.
	Lstat(path string) (fs.FileInfo, error)
	// OpenDir opens the directory at path, for a walk through its
	// descriptor (a layer's content dir).
	OpenDir(path string) (*Dir, error)
	// Readlink reads the target of the symlink at path, never following
	// it.
	Readlink(path string) (string, error)
	// OpenFile opens the regular file at path, of at most max bytes, for a
	// streamed read (a bolt database to copy, a tar-split stream). What is
	// not a regular file is never opened.
	OpenFile(path string, max int64) (*os.File, error)
}

// OS is the Opener of the machine's file system.
type OS struct{}

var _ Opener = OS{}

// ReadFile is ReadFileLimit.
func (OS) ReadFile(path string, max int64) ([]byte, error) { return ReadFileLimit(path, max) }

// ReadDir is os.ReadDir.
func (OS) ReadDir(path string) ([]fs.DirEntry, error) { return os.ReadDir(path) }

// Lstat is os.Lstat.
func (OS) Lstat(path string) (fs.FileInfo, error) { return os.Lstat(path) }

// Readlink is os.Readlink.
func (OS) Readlink(path string) (string, error) { return os.Readlink(path) }

// OpenFile opens path (O_NOFOLLOW) if it is a regular file of at most max
// bytes; it is stat-ed first, so a FIFO or device is never opened.
func (OS) OpenFile(path string, max int64) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, ModeType(fi.Mode()))
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: %w (%d bytes, over %d)", path, ErrTooLarge, fi.Size(), max)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if got, err := f.Stat(); err != nil || !os.SameFile(fi, got) {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrChanged)
	}
	return f, nil
}

// ModeType names a file mode's type: dir, file, symlink, fifo, socket,
// char, block.
func ModeType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "dir"
	case m.IsRegular():
		return "file"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "char"
	case m&fs.ModeDevice != 0:
		return "block"
	}
	return "unknown"
}

// OpenDir is layerfs.OpenDir: the last component must not be a symlink.
func (OS) OpenDir(path string) (*Dir, error) { return OpenDir(path) }

// ReadSmall reads a small metadata file through o, without the whitespace
// around it (Docker writes them without a trailing newline; people who
// edit them add one).
func ReadSmall(o Opener, path string, max int64) (string, error) {
	b, err := o.ReadFile(path, max)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// OrOS returns o, or OS when o is nil.
func OrOS(o Opener) Opener {
	if o == nil {
		return OS{}
	}
	return o
}
