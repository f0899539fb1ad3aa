package inspect

import "github.com/dlayer/dlayer/inspect/backend"

// The backend vocabulary, as the features name it.
type (
	// Driver is a storage backend bound to a data root.
	Driver = backend.Driver
	// Layout are the paths of one layer of a driver.
	Layout = backend.Layout
	// Lower is one layer below another, as the driver recorded it.
	Lower = backend.Lower
	// Registry lists the backends dlayer reads.
	Registry = backend.Registry
	// DriverName is a backend's name.
	DriverName = backend.Name
	// Path is a path below a driver home, parsed by its driver.
	Path = backend.Path
	// PathKind says what a path is.
	PathKind = backend.PathKind
	// MountDirs are the dirs of a live union mount.
	MountDirs = backend.MountDirs
)
