package layerfs

import (
	"errors"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux 6.13 added listxattrat(2) and getxattrat(2): the xattrs of a name
// relative to a directory descriptor, without the path walk through
// /proc/self/fd/N that the l*xattr calls need (a third of the cost of
// classifying an entry). On an older kernel (ENOSYS) the package falls
// back to the /proc path, once and for all.
var noXattrAt atomic.Bool

// xattrArgs is struct xattr_args of include/uapi/linux/xattr.h.
type xattrArgs struct {
	value uint64 // pointer to the value buffer
	size  uint32
	flags uint32
}

// listxattrat lists the xattr names of name in dirfd, without following
// a symlink, into buf; ok is false when the kernel lacks the call.
func listxattrat(dirfd int, name string, buf []byte) (n int, ok bool, err error) {
	if noXattrAt.Load() {
		return 0, false, nil
	}
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return 0, true, err
	}
	var b unsafe.Pointer
	if len(buf) > 0 {
		b = unsafe.Pointer(&buf[0])
	}
	r, _, e := unix.Syscall6(unix.SYS_LISTXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), unix.AT_SYMLINK_NOFOLLOW,
		uintptr(b), uintptr(len(buf)), 0)
	if e == unix.ENOSYS {
		noXattrAt.Store(true)
		return 0, false, nil
	}
	if e != 0 {
		return 0, true, e
	}
	return int(r), true, nil
}

// getxattrat reads xattr attr of name in dirfd, without following a
// symlink, into buf; ok is false when the kernel lacks the call.
func getxattrat(dirfd int, name, attr string, buf []byte) (n int, ok bool, err error) {
	if noXattrAt.Load() {
		return 0, false, nil
	}
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return 0, true, err
	}
	a, err := unix.BytePtrFromString(attr)
	if err != nil {
		return 0, true, err
	}
	args := xattrArgs{size: uint32(len(buf))}
	if len(buf) > 0 {
		args.value = uint64(uintptr(unsafe.Pointer(&buf[0])))
	}
	r, _, e := unix.Syscall6(unix.SYS_GETXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), unix.AT_SYMLINK_NOFOLLOW,
		uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args))
	runtime.KeepAlive(buf) // args holds its address as an integer
	if e == unix.ENOSYS {
		noXattrAt.Store(true)
		return 0, false, nil
	}
	if e != 0 {
		return 0, true, e
	}
	return int(r), true, nil
}

// xattrNamesAt is Dir.Xattrs through listxattrat: nil names and ok false
// when the kernel lacks it.
func xattrNamesAt(dirfd int, name string) (names []string, ok bool, err error) {
	var small [256]byte
	buf := small[:]
	for {
		n, ok, err := listxattrat(dirfd, name, buf)
		if !ok {
			return nil, false, nil
		}
		if errors.Is(err, unix.ERANGE) {
			// the list grew: ask for its size, then read it again
			size, _, err := listxattrat(dirfd, name, nil)
			if err != nil {
				return nil, true, err
			}
			buf = make([]byte, size+64)
			continue
		}
		if err != nil {
			return nil, true, err
		}
		return splitNames(buf[:n]), true, nil
	}
}

// xattrValueAt is Dir.Xattr through getxattrat: ok false when the kernel
// lacks it; found false when the attribute is not set.
func xattrValueAt(dirfd int, name, attr string) (val []byte, found, ok bool, err error) {
	var small [256]byte
	buf := small[:]
	for {
		n, ok, err := getxattrat(dirfd, name, attr, buf)
		if !ok {
			return nil, false, false, nil
		}
		if errors.Is(err, unix.ERANGE) {
			size, _, err := getxattrat(dirfd, name, attr, nil)
			if err != nil {
				return nil, false, true, err
			}
			buf = make([]byte, size+64)
			continue
		}
		if err != nil {
			return nil, false, true, err
		}
		return append([]byte(nil), buf[:n]...), true, true, nil
	}
}

// splitNames splits a NUL-separated xattr name list.
func splitNames(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			if i > start {
				out = append(out, string(b[start:i]))
			}
			start = i + 1
		}
	}
	return out
}
