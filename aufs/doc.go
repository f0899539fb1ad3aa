// Package aufs knows the directories of Docker's aufs storage driver (moby
// daemon/graphdriver/aufs, Docker ≤ 23) and how aufs marks entries in a
// branch.
//
// Layout under the driver home (<root>/aufs):
//
//	diff/<id>/   the layer's content (an image layer, a container's rw branch,
//	             a container's <id>-init layer)
//	layers/<id>  the layer's parents, nearest first, base last, one id per
//	             line; empty for a base layer
//	mnt/<id>/    mount point of a container's union, present (empty) for
//	             every layer
//
// Inside a branch, aufs stores its markers as ordinary files, exactly as
// they appear in a layer tar: ".wh.<name>" deletes <name> below (a
// whiteout), ".wh..wh..opq" in a directory makes it opaque. Names starting
// with ".wh..wh." other than the opaque marker are aufs's own bookkeeping
// (the whiteout base ".wh..wh.aufs" that whiteouts are hard-linked to, the
// pseudo-link dir ".wh..wh.plnk", the orphan dir ".wh..wh.orph"); Docker
// excludes them from layer tars and docker diff, and so does dlayer.
//
// The package reads these; it never follows a symlink and never writes.
package aufs
