// Package overlay2 knows the directories of Docker's overlay2 storage driver
// (moby daemon/graphdriver/overlay2). Its layer dirs hold entries in the
// forms the kernel's overlayfs gives an upper directory, read with package
// overlayfs (Documentation/filesystems/overlayfs.rst).
//
// Layout under the driver home (<root>/overlay2):
//
//	<id>/diff     the layer's content (an image layer, a container's upper dir)
//	<id>/work     overlayfs work dir (kernel housekeeping)
//	<id>/merged   mount point, present while mounted
//	<id>/link     the layer's 26-character short name
//	<id>/lower    "l/A:l/B:…", uppermost first; absent for a base layer
//	l/<LINK>      relative symlink "../<id>/diff"
//
// The package reads these; it never follows a symlink (an l/ link's target
// is parsed as text) and never writes.
package overlay2
