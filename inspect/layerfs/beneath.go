package layerfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrOutsideRoot is returned for a path that is not below the opener's
// root.
var ErrOutsideRoot = errors.New("not below the data root")

// ErrSymlinkInPath is returned when a component of a path below the root
// is a symlink: the store has dirs there, and dlayer never follows a link
// planted in evidence.
var ErrSymlinkInPath = errors.New("a symlink where the store has a directory")

// resolveFlags confine a lookup to the root and refuse every symlink on
// the way (openat2(2)).
const resolveFlags = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// Beneath is an Opener confined to a data root: every path it is given
// must lie below the root, and the kernel resolves it there with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so no component can be a
// symlink and nothing outside the root is ever reached. A file is stat-ed
// through its parent's descriptor before it is opened: a FIFO, socket or
// device is refused without being opened.
type Beneath struct {
	root string
	fd   int

	// the dirs of the last files read or stat-ed, kept open (most recent
	// first): the files of a layerdb entry or a container dir are read one
	// after the other, and a dir is often stat-ed from its parent just
	// before, so each dir is resolved once.
	mu   sync.Mutex
	dirs []openDir
}

// openDir is a kept directory descriptor.
type openDir struct {
	rel string
	fd  int
}

// keptDirs is how many dir descriptors a Beneath keeps.
const keptDirs = 4

var _ Opener = (*Beneath)(nil)

// OpenBeneath opens root (which may itself be a symlink: it is resolved
// once, here) as the confining directory.
func OpenBeneath(root string) (*Beneath, error) {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(real, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	return &Beneath{root: filepath.Clean(root), fd: fd}, nil
}

// Close releases the root's descriptor.
func (b *Beneath) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.dirs {
		unix.Close(d.fd)
	}
	b.dirs = nil
	return unix.Close(b.fd)
}

// rel returns path relative to the root; "." for the root itself.
func (b *Beneath) rel(path string) (string, error) {
	r, err := filepath.Rel(b.root, filepath.Clean(path))
	if err != nil || r == ".." || strings.HasPrefix(r, "../") || filepath.IsAbs(r) {
		return "", fmt.Errorf("%s: %w %s", path, ErrOutsideRoot, b.root)
	}
	return r, nil
}

// open opens rel below the root with flags.
func (b *Beneath) open(path, rel string, flags uint64) (int, error) {
	fd, err := unix.Openat2(b.fd, rel, &unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: resolveFlags})
	if err != nil {
		return -1, b.explain(path, rel, "open", err)
	}
	return fd, nil
}

// explain turns ELOOP and EXDEV into errors that name the symlink found
// and its target; other errors become *fs.PathError as os returns them.
func (b *Beneath) explain(path, rel, op string, err error) error {
	if !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.EXDEV) {
		return &fs.PathError{Op: op, Path: path, Err: err}
	}
	p := b.root
	for _, c := range strings.Split(rel, "/") {
		p = filepath.Join(p, c)
		if t, lerr := os.Readlink(p); lerr == nil {
			return fmt.Errorf("%s: %w: %s -> %s", path, ErrSymlinkInPath, p, t)
		}
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// parent returns the directory holding rel (O_PATH), kept open for the
// next call, and the last component. The caller holds b.mu and must not
// close the descriptor.
func (b *Beneath) parent(path, rel string) (int, string, error) {
	dir, base := filepath.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	for i, d := range b.dirs {
		if d.rel == dir {
			copy(b.dirs[1:i+1], b.dirs[:i])
			b.dirs[0] = d
			return d.fd, base, nil
		}
	}
	fd, err := b.open(path, dir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, "", err
	}
	if len(b.dirs) == keptDirs {
		unix.Close(b.dirs[keptDirs-1].fd)
		b.dirs = b.dirs[:keptDirs-1]
	}
	b.dirs = append([]openDir{{dir, fd}}, b.dirs...)
	return fd, base, nil
}

// ReadFile reads the regular file at path, of at most max bytes.
func (b *Beneath) ReadFile(path string, max int64) ([]byte, error) {
	f, err := b.OpenFile(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, err := readAll(int(f.Fd()), fi.Size(), max)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", path, ErrTooLarge, max)
	}
	return data, nil
}

// ReadDir lists the directory at path, sorted by name.
func (b *Beneath) ReadDir(path string) ([]fs.DirEntry, error) {
	rel, err := b.rel(path)
	if err != nil {
		return nil, err
	}
	fd, err := b.open(path, rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	ents, err := f.ReadDir(-1)
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, err
}

// OpenDir opens the directory at path for a walk, resolved beneath the
// root with no symlink in any component.
func (b *Beneath) OpenDir(path string) (*Dir, error) {
	rel, err := b.rel(path)
	if err != nil {
		return nil, err
	}
	fd, err := b.open(path, rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
	if err != nil {
		return nil, err
	}
	return newDir(fd, path), nil
}

// Lstat stats path without following a symlink, in it or at its end.
func (b *Beneath) Lstat(path string) (fs.FileInfo, error) {
	rel, err := b.rel(path)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return os.Lstat(b.root)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	pfd, base, err := b.parent(path, rel)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat("/proc/self/fd/" + strconv.Itoa(pfd) + "/" + base)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: path, Err: errors.Unwrap(err)}
	}
	return fi, nil
}

// readAll reads fd to its end, but never more than max+1 bytes (a file
// that grew past its stat-ed size is still bounded); size is the stat-ed
// size, the first guess of the buffer.
func readAll(fd int, size, max int64) ([]byte, error) {
	limit := int(max + 1)
	buf := make([]byte, 0, int(min(size, max))+1)
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):min(cap(buf), limit)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	return buf, nil
}

// Readlink reads the target of the symlink at path (never following it),
// with no symlink in any component before it.
func (b *Beneath) Readlink(path string) (string, error) {
	rel, err := b.rel(path)
	if err != nil {
		return "", err
	}
	if rel == "." {
		return "", &fs.PathError{Op: "readlink", Path: path, Err: unix.EINVAL}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	pfd, base, err := b.parent(path, rel)
	if err != nil {
		return "", err
	}
	return readlinkAt(pfd, base, path)
}

// readlinkAt reads the symlink name of dir fd; path names it in errors.
// A target is at most PATH_MAX bytes.
func readlinkAt(fd int, name, path string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(fd, name, buf)
		if err != nil {
			return "", &fs.PathError{Op: "readlink", Path: path, Err: err}
		}
		if n < len(buf) || len(buf) >= unix.PathMax {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// OpenFile opens the regular file at path, of at most max bytes, resolved
// beneath the root with no symlink in any component; it is stat-ed
// through its parent first, so a FIFO or device is never opened.
func (b *Beneath) OpenFile(path string, max int64) (*os.File, error) {
	rel, err := b.rel(path)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	pfd, base, err := b.parent(path, rel)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, Stat{Mode: st.Mode}.Type())
	}
	if st.Size > max {
		return nil, fmt.Errorf("%s: %w (%d bytes, over %d)", path, ErrTooLarge, st.Size, max)
	}
	fd, err := unix.Openat2(pfd, base, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC, Resolve: resolveFlags})
	if err != nil {
		return nil, b.explain(path, rel, "open", err)
	}
	var got unix.Stat_t
	if err := unix.Fstat(fd, &got); err != nil || got.Dev != st.Dev || got.Ino != st.Ino || got.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", path, ErrChanged)
	}
	return os.NewFile(uintptr(fd), path), nil
}
