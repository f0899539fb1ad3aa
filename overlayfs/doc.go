// Package overlayfs knows how the kernel's overlayfs marks entries in an
// upper directory (Documentation/filesystems/overlayfs.rst): whiteouts,
// opaque and redirected directories, metadata-only copy-ups. The storage
// backends whose writable layers are overlayfs upper dirs (overlay2, the
// legacy overlay driver) read their upper dirs with its Format; it knows
// no driver's directories.
//
// It reads; it never follows a symlink and never writes.
package overlayfs
