package layerfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"
)

// ErrNotRegular is returned by OpenFile when the name is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrChanged is returned by OpenFile when the file opened is not the one that
// was stat-ed (it was replaced between the two calls).
var ErrChanged = errors.New("file changed between stat and open")

// Dir is an open directory of a layer. Its Path is for messages only: every
// operation goes through the descriptor.
type Dir struct {
	f    *os.File
	fd   int
	Path string
}

// OpenDir opens the directory at path (which must not be a symlink) read-only.
func OpenDir(path string) (*Dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return newDir(fd, path), nil
}

func newDir(fd int, path string) *Dir {
	return &Dir{f: os.NewFile(uintptr(fd), path), fd: fd, Path: path}
}

// Close releases the descriptor.
func (d *Dir) Close() error { return d.f.Close() }

// Sub opens the child directory name of d. It fails (ENOTDIR or ELOOP) when
// name is not a directory, symlinks included.
func (d *Dir) Sub(name string) (*Dir, error) {
	if err := checkName(name); err != nil {
		return nil, &os.PathError{Op: "openat", Path: d.join(name), Err: err}
	}
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "openat", Path: d.join(name), Err: err}
	}
	return newDir(fd, d.join(name)), nil
}

// Names lists the names in d, unsorted, without "." and "..".
func (d *Dir) Names() ([]string, error) {
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	names, err := d.f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("%s: read directory: %w", d.Path, err)
	}
	return names, nil
}

// Lstat stats name in d without following a symlink. ok is false when the
// name does not exist.
func (d *Dir) Lstat(name string) (st Stat, ok bool, err error) {
	if err := checkName(name); err != nil {
		return Stat{}, false, &os.PathError{Op: "fstatat", Path: d.join(name), Err: err}
	}
	var s unix.Stat_t
	err = unix.Fstatat(d.fd, name, &s, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return Stat{}, false, nil
	}
	if err != nil {
		return Stat{}, false, &os.PathError{Op: "fstatat", Path: d.join(name), Err: err}
	}
	return statFrom(&s), true, nil
}

// Self stats the directory itself.
func (d *Dir) Self() (Stat, error) {
	var s unix.Stat_t
	if err := unix.Fstat(d.fd, &s); err != nil {
		return Stat{}, &os.PathError{Op: "fstat", Path: d.Path, Err: err}
	}
	return statFrom(&s), nil
}

// procPath names child name through the descriptor, for the *xattr calls
// that have no *at form. The path is short whatever the depth of d.
func (d *Dir) procPath(name string) string {
	return "/proc/self/fd/" + strconv.Itoa(d.fd) + "/" + name
}

// Xattrs lists the extended attribute names of child name (of d itself when
// name is "."), without following a symlink.
func (d *Dir) Xattrs(name string) ([]string, error) {
	if names, ok, err := xattrNamesAt(d.fd, name); ok {
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: list xattrs: %w", d.join(name), err)
		}
		return names, nil
	}
	names, err := xattr.LList(d.procPath(name))
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: list xattrs: %w", d.join(name), unwrapXattr(err))
	}
	return names, nil
}

// Xattr reads one extended attribute of child name; ok is false when it is
// not set.
func (d *Dir) Xattr(name, attr string) (val []byte, ok bool, err error) {
	if v, found, ok, err := xattrValueAt(d.fd, name, attr); ok {
		if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("%s: xattr %s: %w", d.join(name), attr, err)
		}
		return v, found, nil
	}
	v, err := xattr.LGet(d.procPath(name), attr)
	if err != nil {
		if errors.Is(err, xattr.ENOATTR) || errors.Is(err, unix.ENOTSUP) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("%s: xattr %s: %w", d.join(name), attr, unwrapXattr(err))
	}
	return v, true, nil
}

// Readlink returns the target of the symlink name, as text. It is never
// followed.
func (d *Dir) Readlink(name string) (string, error) {
	return readlinkAt(d.fd, name, d.join(name))
}

// OpenFile opens child name for reading if, and only if, it is the regular
// file described by want: same device, inode, size and ctime (an inode
// number may be reused by a replacement; any change updates ctime). FIFOs,
// devices and symlinks are never opened.
func (d *Dir) OpenFile(name string, want Stat) (*os.File, error) {
	if want.Type() != TypeFile {
		return nil, fmt.Errorf("%s: %w", d.join(name), ErrNotRegular)
	}
	fd, _, err := d.OpenFd(name, &want)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), d.join(name)), nil
}

// OpenFd is OpenFile as a bare descriptor, for callers that open files by
// the hundred thousand, and returns the open file's stat. With want nil,
// the caller knows from the directory entry (DT_REG) that name is a
// regular file, as it knows from an lstat otherwise: nothing that is not
// one is opened but in a race with its replacement, which the fstat then
// reports (ErrChanged). The open never follows a symlink, blocks or takes
// a terminal.
func (d *Dir) OpenFd(name string, want *Stat) (fd int, st Stat, err error) {
	if err := checkName(name); err != nil {
		return -1, Stat{}, &os.PathError{Op: "openat", Path: d.join(name), Err: err}
	}
	fd, err = unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return -1, Stat{}, &os.PathError{Op: "openat", Path: d.join(name), Err: err}
	}
	var s unix.Stat_t
	if err := unix.Fstat(fd, &s); err != nil {
		unix.Close(fd)
		return -1, Stat{}, &os.PathError{Op: "fstat", Path: d.join(name), Err: err}
	}
	st = statFrom(&s)
	if st.Type() != TypeFile || want != nil && (st.Dev != want.Dev || st.Ino != want.Ino || st.Size != want.Size || st.Ctime != want.Ctime) {
		unix.Close(fd)
		return -1, Stat{}, fmt.Errorf("%s: %w", d.join(name), ErrChanged)
	}
	return fd, st, nil
}

func (d *Dir) join(name string) string {
	if name == "." {
		return d.Path
	}
	return d.Path + "/" + name
}

// checkName refuses names that would leave the directory.
func checkName(name string) error {
	if name == "" || name == ".." || containsSlash(name) {
		return unix.EINVAL
	}
	return nil
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

func unwrapXattr(err error) error {
	var xe *xattr.Error
	if errors.As(err, &xe) {
		return xe.Err
	}
	return err
}
