package du

import (
	"bytes"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// counts accumulates one directory's numbers before they are added to its
// unit, so that the shared counters are touched once per directory.
type counts struct {
	size, disk, files, dirs    int64
	logSize, logDisk, logFiles int64
}

func (c *counts) flush(u *unit) {
	u.size.Add(c.size)
	u.disk.Add(c.disk)
	u.files.Add(c.files)
	u.dirs.Add(c.dirs)
	if c.logFiles > 0 {
		u.logSize.Add(c.logSize)
		u.logDisk.Add(c.logDisk)
		u.logFiles.Add(c.logFiles)
	}
}

// account charges one entry to unit u. inSize says whether the entry lies
// where the unit's Docker size is counted; name is the entry's name (nil
// for a root) and depth the depth of its directory (0: the unit's root).
//
// Size is moby pkg/directory.Size: st_size of every non-directory with a
// size, each inode once within the unit (so symlinks count their target's
// length, whiteout devices 0). Disk usage is GNU du's: st_blocks*512 of
// every entry, directories included, a non-directory with several names
// once in the whole audit.
func (w *walker) account(c *counts, u int32, st *unix.Stat_t, name []byte, inSize bool, depth int32) {
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	disk := st.Blocks * 512
	amount := st.Size
	sized := inSize && !isDir && st.Size > 0
	if w.units[u].usage {
		amount, sized = disk, inSize && disk > 0
	}
	first := true
	if !isDir && st.Nlink > 1 {
		disk, sized, first = w.links.see(inodeKey{st.Dev, st.Ino}, uint64(st.Nlink), u, disk, sized, w.units)
	}
	if isDir {
		c.dirs++
	} else {
		c.files++
	}
	c.disk += disk
	if sized {
		c.size += amount
	}
	if first && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Blocks*512 < st.Size {
		w.sparse.Add(1)
		w.sparseBytes.Add(st.Size - st.Blocks*512)
	}
	if depth == 0 && name != nil && w.units[u].logs && st.Mode&unix.S_IFMT == unix.S_IFREG && isJSONLog(name) {
		c.logFiles++
		c.logDisk += disk
		if sized {
			c.logSize += amount
		}
	}
}

// isJSONLog matches Docker's json-file log, <id>-json.log, and its rotated
// copies <id>-json.log.1, <id>-json.log.2.gz…
func isJSONLog(name []byte) bool {
	return bytes.Contains(name, []byte("-json.log"))
}

// list opens task t's directory, stats and charges every entry, and
// returns its subdirectories as new tasks.
func (w *walker) list(t task, buf []byte) (kids []task) {
	fd, err := unix.Openat(t.parent.fd, t.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	parent := t.parent
	parent.release() // the task's hold on it: its child is open (or gone)
	if err != nil {
		if !errors.Is(err, unix.ENOENT) {
			w.fail(t.u, parent.path()+"/"+t.name, err)
		}
		return nil
	}
	d := &dirRef{fd: fd, dev: parent.dev, parent: parent, name: t.name}
	d.refs.Store(1) // ours; each queued child takes one more
	defer d.release()

	u := w.units[t.u]
	var c counts
	var st unix.Stat_t
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			if !errors.Is(err, unix.EINTR) {
				w.fail(t.u, d.path(), err)
				break
			}
			continue
		}
		if n <= 0 {
			break
		}
		for name := range layerfs.Dirents(buf[:n]) {
			if err := lstatAt(fd, &name[0], &st); err != nil {
				if !errors.Is(err, unix.ENOENT) {
					w.fail(t.u, d.path()+"/"+string(name), err)
				}
				continue
			}
			if st.Dev != d.dev {
				w.mount(d.path() + "/" + string(name))
				continue
			}
			inSize := t.inSize || (t.depth == 0 && u.mode == sizeSub && string(name) == u.sub)
			w.account(&c, t.u, &st, name, inSize, t.depth)
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				d.refs.Add(1)
				kids = append(kids, task{parent: d, name: string(name), u: t.u, depth: t.depth + 1, inSize: inSize})
			}
		}
	}
	c.flush(u)
	w.files.Add(c.files + c.dirs)
	w.bytes.Add(c.disk)
	return kids
}
