//go:build linux && !amd64 && !arm64

package du

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// lstatAt is fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) for a
// NUL-terminated name; on this architecture through the string form.
func lstatAt(dirfd int, name *byte, st *unix.Stat_t) error {
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(name), n)) != 0 {
		n++
	}
	return unix.Fstatat(dirfd, unsafe.String(name, n), st, unix.AT_SYMLINK_NOFOLLOW)
}
