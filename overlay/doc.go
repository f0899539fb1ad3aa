// Package overlay knows the directories of Docker's legacy overlay storage
// driver (moby daemon/graphdriver/overlay, Docker <= 23,
// --storage-driver=overlay), the driver that came before overlay2.
//
// Layout under the driver home (<root>/overlay), as moby's Create and
// ApplyDiff leave it:
//
//	<id>/root/      an image layer: a whole file system tree. A base layer
//	                is its tar extracted; every other layer is a copy of its
//	                parent's root/ made with hardlinks (regular files are
//	                linked, dirs, symlinks, FIFOs and devices are new copies
//	                with the same metadata), with the layer's tar applied.
//	                Nothing on disk names the parent: only layerdb does.
//	<id>/upper/     a container's rw layer or its <id>-init layer: an
//	                overlayfs upper dir
//	<id>/work/      overlayfs work dir (kernel housekeeping)
//	<id>/merged/    mount point, present while mounted
//	<id>/lower-id   the id of the image's top layer, whose root/ is the
//	                mount's single lowerdir (no trailing newline)
//	<id>/tmproot*/  the tree of an image layer being extracted (ApplyDiff)
//
// A container's init layer is made over the image's top layer (upper/,
// work/, lower-id); its rw layer then inherits the init layer's lower-id
// and starts with a copy of the init layer's upper dir. For an image with
// no layers (FROM scratch) the init layer is a root/ of its own.
//
// Because image layers are whole trees, an image layer's own changes are
// not in its dir the way a diff is: they are what differs from its
// parent's root/ (a regular file with another inode, an entry the parent
// does not have, an entry of the parent that is gone). Format reads
// root/ dirs that way, so that the core's union logic sees each image
// layer as a diff; upper dirs it reads in overlayfs's forms (package
// overlayfs).
//
// The package reads; it never follows a symlink and never writes.
package overlay
