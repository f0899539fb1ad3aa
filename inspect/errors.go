package inspect

import (
	"errors"

	"github.com/dlayer/dlayer/inspect/backend"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotDataRoot: the directory does not look like a Docker data root.
	ErrNotDataRoot = errors.New("not a Docker data root")
	// ErrNotFound: no container, image or layer matches a reference.
	ErrNotFound = backend.ErrNotFound
	// ErrAmbiguous: a reference (ID prefix) matches more than one object.
	ErrAmbiguous = errors.New("ambiguous reference")
	// ErrMalformed: a metadata file does not have the format Docker writes.
	ErrMalformed = backend.ErrMalformed
	// ErrUnreadable: an object exists but its files cannot be read or parsed.
	ErrUnreadable = errors.New("unreadable")
	// ErrUnsupportedDriver: the store uses a driver dlayer cannot read yet.
	ErrUnsupportedDriver = errors.New("unsupported storage driver")
)

// Finding is a problem found in the store: one entry that is not as Docker
// would have left it. The work goes on after a finding.
type Finding = backend.Finding

// FindingKind names a kind of problem.
type FindingKind = backend.FindingKind
