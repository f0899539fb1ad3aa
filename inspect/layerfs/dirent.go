package layerfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"

	"golang.org/x/sys/unix"
)

// Dirents yields the records of a getdents64 buffer, "." and ".." left
// out: each name (a slice of buf, which holds its terminating NUL right
// after it) and its d_type (unix.DT_REG, DT_DIR…; DT_UNKNOWN where the
// filesystem does not say, and a stat must). A record that does not fit
// the buffer ends the walk.
//
//	struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
func Dirents(buf []byte) iter.Seq2[[]byte, uint8] {
	return func(yield func([]byte, uint8) bool) {
		for off := 0; off+19 < len(buf); {
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen < 20 || off+reclen > len(buf) {
				return
			}
			rec := buf[off : off+reclen]
			off += reclen
			l := bytes.IndexByte(rec[19:], 0)
			if l <= 0 {
				continue
			}
			name := rec[19 : 19+l]
			if string(name) == "." || string(name) == ".." {
				continue
			}
			if !yield(name, rec[18]) {
				return
			}
		}
	}
}

// direntBuf is the getdents buffer of List: large enough that a dir of a
// few thousand entries is read in one or two calls.
const direntBuf = 64 << 10

// List returns the names in d with the type each has in its directory
// entry (unix.DT_*; unix.DT_UNKNOWN where the filesystem does not say),
// unsorted, "." and ".." left out. It reads from the start of d whatever
// was read before, and never stats or opens an entry.
func (d *Dir) List() (map[string]uint8, error) {
	if _, err := unix.Seek(d.fd, 0, 0); err != nil {
		return nil, fmt.Errorf("%s: read directory: %w", d.Path, err)
	}
	buf := make([]byte, direntBuf)
	out := map[string]uint8{}
	for {
		n, err := unix.Getdents(d.fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read directory: %w", d.Path, err)
		}
		if n <= 0 {
			return out, nil
		}
		for name, typ := range Dirents(buf[:n]) {
			out[string(name)] = typ
		}
	}
}
