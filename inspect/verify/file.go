package verify

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"os"
	"slices"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"golang.org/x/sys/unix"
)

// readFile opens name in d, which must still be the regular file st (see
// layerfs.Dir.OpenFd), and reads it (readOpen).
func (lc *layerCheck) readFile(d *layerfs.Dir, name string, st layerfs.Stat, e *entry, read bool) {
	fd, _, err := d.OpenFd(name, &st)
	if err != nil {
		e.data.err, e.data.errKind, e.data.actual = err, KindUnreadable, "unreadable"
		return
	}
	lc.readOpen(d, name, fd, st, e, read)
}

// readOpen reads the watched xattrs of fd, the regular file st opened as
// name in d, and, when read is set, its bytes: whole if they fit the
// entry's read-ahead budget, else the open file is left to the hasher to
// stream. It closes fd unless it is left to the hasher. FIFOs and devices
// never get here: they are classified by their directory entry or lstat.
func (lc *layerCheck) readOpen(d *layerfs.Dir, name string, fd int, st layerfs.Stat, e *entry, read bool) {
	dr := &e.data
	fail := func(err error) {
		dr.err, dr.errKind, dr.actual = err, KindUnreadable, "unreadable"
	}
	var h *tar.Header
	if e.hdr != nil {
		h = e.hdr.h
	}
	e.disk.xattrs = fdXattrs(fd, h, lc.m.watch)
	if !read {
		unix.Close(fd)
		return
	}
	if st.Size > e.budget {
		dr.fd = fd
		return
	}
	// One read of size+1 bytes: a regular file returns less than asked
	// only at its end, so a short read is EOF without a second call (and
	// a full one means the file grew since the fstat).
	box := lc.p.getBuf(int(st.Size) + 1)
	buf := *box
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			unix.Close(fd)
			lc.p.putBuf(box)
			fail(&os.PathError{Op: "read", Path: d.Path + "/" + name, Err: err})
			return
		}
		n += m
		if m == 0 || n >= int(st.Size) {
			break
		}
	}
	unix.Close(fd)
	if lc.m.pace != nil && n > 0 {
		lc.m.pace(n)
	}
	if int64(n) > st.Size {
		lc.p.putBuf(box)
		fail(fmt.Errorf("%s/%s: it grew while being read: %w", d.Path, name, layerfs.ErrChanged))
		return
	}
	*box = buf[:n]
	dr.inline, dr.n, dr.crc, dr.read = box, int64(n), crc64.Update(0, crcTable, buf[:n]), true
}

// stream reads a large file, opened by a reader, into the hash and its CRC.
func (lc *layerCheck) stream(e *entry, h hash.Hash) {
	dr := &e.data
	if lc.buf == nil {
		lc.buf = make([]byte, inlineMax)
	}
	var crc uint64
	var n int64
	var err error
	for {
		var m int
		m, err = unix.Read(dr.fd, lc.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || m == 0 {
			break
		}
		if lc.m.pace != nil {
			lc.m.pace(m)
		}
		h.Write(lc.buf[:m])
		crc = crc64.Update(crc, crcTable, lc.buf[:m])
		n += int64(m)
	}
	unix.Close(dr.fd)
	dr.fd = -1
	if err != nil {
		dr.err, dr.errKind, dr.actual = fmt.Errorf("%s: read: %w", e.name, err), KindUnreadable, "unreadable"
		return
	}
	dr.n, dr.crc, dr.read = n, crc, true
}

// fdXattrs returns the xattrs of an open file or dir that are among
// watch, and those the header declares (PAX SCHILY.xattr.*). Most files
// have none: one flistxattr says so.
func fdXattrs(fd int, h *tar.Header, watch []string) map[string][]byte {
	var small [256]byte // on the stack: the common answer is "none"
	if n, err := unix.Flistxattr(fd, small[:]); n == 0 && err == nil {
		return nil
	}
	return fdXattrsListed(fd, h, watch)
}

// fdXattrsListed is fdXattrs for a file that has xattrs: they are listed
// again into a buffer of their size.
func fdXattrsListed(fd int, h *tar.Header, watch []string) map[string][]byte {
	n, err := unix.Flistxattr(fd, nil)
	if err != nil || n <= 0 {
		return nil
	}
	list := make([]byte, n)
	if n, err = unix.Flistxattr(fd, list); err != nil || n <= 0 {
		return nil
	}
	var out map[string][]byte
	for _, name := range bytes.Split(list[:n], []byte{0}) {
		k := string(name)
		if k == "" || !(slices.Contains(watch, k) || declared(h, k)) {
			continue
		}
		v := make([]byte, 256)
		m, err := unix.Fgetxattr(fd, k, v)
		if errors.Is(err, unix.ERANGE) {
			if m, err = unix.Fgetxattr(fd, k, nil); err == nil {
				v = make([]byte, m)
				m, err = unix.Fgetxattr(fd, k, v)
			}
		}
		if err != nil {
			continue
		}
		if out == nil {
			out = map[string][]byte{}
		}
		out[k] = v[:m]
	}
	return out
}

func declared(h *tar.Header, k string) bool {
	if h == nil {
		return false
	}
	_, ok := h.PAXRecords["SCHILY.xattr."+k]
	return ok
}

func crcEqual(want []byte, got uint64) bool {
	if len(want) != 8 {
		return false
	}
	var g [8]byte
	for i := range 8 {
		g[i] = byte(got >> (56 - 8*i))
	}
	return bytes.Equal(want, g[:])
}
