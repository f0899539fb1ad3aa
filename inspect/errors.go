package inspect

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrNotDataRoot: the directory does not look like a Docker data root.
	ErrNotDataRoot = errors.New("not a Docker data root")
	// ErrNotFound: no container, image or layer matches a reference.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous: a reference (ID prefix) matches more than one object.
	ErrAmbiguous = errors.New("ambiguous reference")
	// ErrMalformed: a metadata file does not have the format Docker writes.
	ErrMalformed = errors.New("malformed")
	// ErrUnsupportedDriver: the store uses a driver dlayer cannot read yet.
	ErrUnsupportedDriver = errors.New("unsupported storage driver")
)

// Finding is a problem found in the store: one entry that is not as Docker
// would have left it. The work goes on after a finding.
type Finding struct {
	// Kind is a short machine-readable name, e.g. "chain_id_mismatch".
	Kind string `json:"kind"`
	// Path is the file or directory concerned, when there is one.
	Path string `json:"path,omitempty"`
	// Message says what is wrong, in words.
	Message string `json:"message"`
}
