package overlay

import "github.com/dlayer/dlayer/inspect/backend"

// Terms are the driver's words, for reports: what explain teaches a
// reader who has never seen the legacy overlay driver.
func (d driver) Terms() backend.Terms {
	return backend.Terms{Union: "overlay mount", Upper: "upper dir", Lowers: "lower-id file", WorkDir: true, TrustedMarkers: true,
		HasContentSubdir: true,
		// moby's overlay ApplyDiff returns what UnpackLayer counted; its
		// DiffSize is the NaiveDiffDriver's (ChangesSize).
		LayerSize: backend.SizeTarFiles, RWSize: backend.SizeChanges, WholeTreeLayers: true,
		Stacking: "the legacy overlay driver keeps each image layer as a whole tree, overlay/<id>/root/: a copy of its\n" +
			" parent's root/ made with hardlinks, with the layer's changes applied; a container mounts one writable\n" +
			" upper dir over the root/ of the image's top layer and shows the union at the merged dir",
		DirsHelp: "upper: every write of the container lands here; it starts as a copy of the init layer's upper dir;\n" +
			"work: overlayfs scratch space; merged: the container's root file system, present while it is mounted",
		LowersFrom: "the init layer's upper dir, then every image layer's root/; the mount itself has a single\n" +
			"              lowerdir, the root/ of the layer that lower-id names",
		LowersHelp: "each root/ is a whole file system sharing unchanged files with its parent's by hardlink;\n" +
			"              a layer's own changes are what differs from its parent's root/ (another inode, new, gone)",
		LayerDirHelp: "An image layer's dir holds root/, the layer's whole tree; a container's rw or init layer has upper/ " +
			"(its files), work/, merged/ (its mount point) and lower-id (the image layer whose root/ it is mounted over).",
		ContentHelp: "An image layer's root/ is a whole tree: what that layer changed and, shared by hardlink, every file of " +
			"the layers below it that it kept. A container layer's upper/ holds only what that layer changed.",
		KindHelp: map[string]string{
			"copied_up": "Copied up: a copy of a lower entry with nothing changed. The legacy overlay driver starts every " +
				"container's upper dir as a copy of its init layer's upper dir, so /.dockerenv, /etc/hosts, /etc/hostname, " +
				"/etc/resolv.conf, /etc/mtab, /dev/console and their dirs are always here; otherwise it happens when a file " +
				"is opened for writing without being changed (even O_APPEND), hardlinked, or touched with its own time, and " +
				"for every parent dir of a copied-up entry. `docker diff` does not list these; they still cost their size.",
		},
	}
}
