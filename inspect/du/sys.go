//go:build linux && (amd64 || arm64)

package du

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// lstatAt is fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) where name
// points at a NUL-terminated name inside a getdents buffer: no string is
// made for the millions of entries a store holds.
func lstatAt(dirfd int, name *byte, st *unix.Stat_t) error {
	_, _, e := unix.Syscall6(sysFstatat, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
