// Package layerfs is the shared vocabulary between dlayer's union logic
// (package inspect) and the storage drivers (overlay2, aufs).
//
// It owns two things:
//
//   - Dir: an open directory inside a layer, with the only file-system
//     primitives dlayer uses on attacker-controlled trees. Every call is
//     relative to an open directory descriptor (openat/fstatat), so trees of
//     any depth work without PATH_MAX limits, and nothing ever follows a
//     symlink: directories are opened with O_NOFOLLOW|O_DIRECTORY, entries are
//     stat-ed with AT_SYMLINK_NOFOLLOW, extended attributes are read with
//     listxattrat/getxattrat (Linux 6.13), or lgetxattr through
//     /proc/self/fd on older kernels. Regular files are opened only after an
//     fstat proves they are the regular file that was stat-ed.
//   - Entry and Format: what one name in a layer directory means to the union
//     (plain entry, whiteout of a lower entry, opaque directory, redirect,
//     metadata-only copy-up, driver bookkeeping). A driver implements Format;
//     package inspect does everything else.
package layerfs
