// Package du accounts for every byte of a Docker data root: it is what
// `dlayer du` shows.
//
// [Audit] charges each dir under the driver dir (overlay2/) to exactly one
// owner — an image layer (layerdb cache-id), a container's rw or init layer
// (layerdb/mounts mount-id, init-id), a BuildKit build-cache snapshot
// (buildkit/snapshots.db, read from a private copy), the driver's own
// bookkeeping (l/) — or calls it an orphan and says why. It also walks
// containers/<id>/ (json-file logs) and the rest of the data root, and
// reports what is missing or dangling: layer dirs, l/ links, *-removing and
// layerdb/tmp leftovers.
//
// Everything gets two numbers (DESIGN.md, "Numbers that must equal
// Docker's"): Size, Docker's content size (moby pkg/directory.Size: st_size
// of non-directories, each inode once per tree), from which image Size,
// SharedSize, UniqueSize and container SizeRw, SizeRootFs follow exactly as
// the engine's /system/df computes them; and DiskUsage, allocated blocks
// with each inode charged once in the whole audit, which is what du -x
// reports and what deleting frees.
//
// The walk lists each tree exactly once, in parallel ([DefaultWorkers]
// directories at once: more than the cores, so that a cold cache keeps the
// device's queue full), through directory descriptors (getdents, fstatat with
// AT_SYMLINK_NOFOLLOW): no path length limit, no symlink followed, no other
// file system entered. Its memory is the set of inodes that have more than
// one name; nothing else grows with the number of files.
//
// The package reads only: nothing under the data root is opened for
// writing, locked or mounted. It returns values; package report formats
// them.
package du
