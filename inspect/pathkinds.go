package inspect

import "github.com/dlayer/dlayer/inspect/backend"

// The kinds of paths below a driver home, as the drivers parse them
// (Driver.ParsePath).
const (
	PathDriverHome        = backend.PathDriverHome
	PathDriverBookkeeping = backend.PathDriverBookkeeping
	PathShortLink         = backend.PathShortLink
	PathLayerDir          = backend.PathLayerDir
	PathLayerContent      = backend.PathLayerContent
	PathLayerEntry        = backend.PathLayerEntry
	PathLayerWork         = backend.PathLayerWork
	PathLayerMountpoint   = backend.PathLayerMountpoint
	PathMergedEntry       = backend.PathMergedEntry
	PathLayerFile         = backend.PathLayerFile
)
