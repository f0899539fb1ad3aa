package report

import (
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/inspect/mounts"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/dlayer/dlayer/inspect/whose"
)

// Schema names one kind of JSON document dlayer writes; its JSON Schema is
// docs/schema/<name>.schema.json, generated from the document's Go type
// (report/schema_test.go) and checked against real outputs in the tests.
type Schema string

// The documents, one per command (verify --quiet has its own).
const (
	SchemaPS             Schema = "ps"
	SchemaImages         Schema = "images"
	SchemaLayers         Schema = "layers"
	SchemaExplain        Schema = "explain"
	SchemaDiff           Schema = "diff"
	SchemaDU             Schema = "du"
	SchemaVerify         Schema = "verify"
	SchemaVerifyFindings Schema = "verify-findings"
	SchemaMounts         Schema = "mounts"
	SchemaWhose          Schema = "whose"
	SchemaAnatomy        Schema = "anatomy"
	SchemaCompare        Schema = "compare"
	SchemaExport         Schema = "export"
)

// Schemas lists every document kind.
func Schemas() []Schema {
	return []Schema{SchemaPS, SchemaImages, SchemaLayers, SchemaExplain, SchemaDiff, SchemaDU,
		SchemaVerify, SchemaVerifyFindings, SchemaMounts, SchemaWhose, SchemaAnatomy, SchemaCompare, SchemaExport}
}

// Version is the document's schema version. It goes up whenever a field
// disappears, is renamed, or changes its type or meaning; a new field
// does not change it. docs/schema/README.md has each version's story:
// version 1 of ps, images and diff was a bare JSON array (and of
// verify-findings the bare findings array); version 2 is an object with
// the header and the list in one field.
func (s Schema) Version() int {
	switch s {
	case SchemaPS, SchemaImages, SchemaDiff, SchemaVerifyFindings:
		return 2
	}
	return 1
}

// Header opens every JSON document: which schema it follows and the
// provenance of the run that wrote it.
type Header struct {
	// Schema is the document's kind: its JSON Schema is
	// docs/schema/<schema>.schema.json.
	Schema Schema `json:"schema"`
	// SchemaVersion is the version of that schema the document follows.
	SchemaVersion int `json:"schema_version"`
	// Provenance is what wrote the document, when, and with what rights.
	Provenance Provenance `json:"provenance"`
}

// NewHeader is the header of a document of kind s written by the run p.
func NewHeader(s Schema, p Provenance) Header {
	return Header{Schema: s, SchemaVersion: s.Version(), Provenance: p}
}

// Provenance records what produced a document: evidence must say which
// tool, which build, what it read, when, and with what rights (a process
// without CAP_SYS_ADMIN does not see overlayfs's trusted.* markers).
type Provenance struct {
	// Tool is "dlayer".
	Tool string `json:"tool"`
	// Version is the module version of the build ("(devel)" for a build
	// from a work tree).
	Version string `json:"version"`
	// Revision is the VCS revision the binary was built from, when the
	// build recorded one.
	Revision string `json:"revision,omitempty"`
	// RevisionTime is that revision's commit time.
	RevisionTime string `json:"revision_time,omitempty"`
	// Modified is true when the work tree had uncommitted changes.
	Modified bool `json:"modified"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// Command is the command line, as given.
	Command []string `json:"command"`
	// Host is the host name of the machine that ran dlayer (not
	// necessarily the one the data root came from).
	Host string `json:"host"`
	// Root is the data root read, as an absolute path.
	Root string `json:"root"`
	// ContainerdRoot is containerd's root, for the containerd image store.
	ContainerdRoot string `json:"containerd_root,omitempty"`
	// Started is when the run began, UTC.
	Started time.Time `json:"started"`
	// EUID and EGID are the process's effective user and group IDs.
	EUID int `json:"euid"`
	EGID int `json:"egid"`
	// CapEff is the effective capability set as /proc/self/status shows
	// it (16 hex digits); "" when it could not be read.
	CapEff string `json:"cap_eff"`
	// Capabilities names the capabilities of CapEff ("cap_sys_admin").
	Capabilities []string `json:"capabilities"`
}

// PSDocument is `dlayer ps --format json`.
type PSDocument struct {
	Header
	// Containers are the store's containers, as docker ps -a lists them.
	Containers []inspect.Container `json:"containers"`
}

// ImagesDocument is `dlayer images --format json`.
type ImagesDocument struct {
	Header
	// Images are the store's images, newest first.
	Images []ImageRow `json:"images"`
}

// LayersDocument is `dlayer layers --format json`.
type LayersDocument struct {
	Header
	LayersDoc
}

// AnatomyDocument is `dlayer layers --contents --format json`.
type AnatomyDocument struct {
	Header
	AnatomyDoc
}

// CompareDocument is `dlayer layers --compare --format json`.
type CompareDocument struct {
	Header
	CompareDoc
}

// ExportDocument is dlayer export's manifest.
type ExportDocument struct {
	Header
	ExportDoc
}

// ExplainDocument is `dlayer explain --format json`.
type ExplainDocument struct {
	Header
	inspect.Explanation
}

// DiffDocument is `dlayer diff --format json`.
type DiffDocument struct {
	Header
	// Changes are docker diff's lines, in its order.
	Changes []inspect.DiffLine `json:"changes"`
}

// DUDocument is `dlayer du --format json`.
type DUDocument struct {
	Header
	du.Report
}

// MountsDocument is `dlayer mounts --format json`.
type MountsDocument struct {
	Header
	mounts.Report
}

// WhoseDocument is `dlayer whose --format json`.
type WhoseDocument struct {
	Header
	whose.Answer
}

// VerifyDocument is `dlayer verify --format json`.
type VerifyDocument struct {
	Header
	// Root is the data root checked.
	Root string `json:"root"`
	// Drivers are the storage drivers whose stores were checked.
	Drivers []string `json:"drivers"`
	// Mode is "content" (layer contents re-hashed) or "quick" (metadata
	// and the layers' presence only).
	Mode string `json:"mode"`
	// Started is when the check began; DurationSeconds how long it took.
	Started         time.Time    `json:"started"`
	DurationSeconds float64      `json:"duration_seconds"`
	Stats           verify.Stats `json:"stats"`
	// Summary counts the findings.
	Summary  VerifyCounts     `json:"summary"`
	Findings []verify.Finding `json:"findings"`
	// Complete is false when something could not be checked (see Gaps).
	Complete bool          `json:"complete"`
	Gaps     []inspect.Gap `json:"gaps"`
	// Changed is what changed while verify read it (present only then).
	Changed []verify.Changed `json:"changed_during_scan,omitempty"`
	// State is what --state trusted and re-hashed (present only with it).
	State *verify.TrustReport `json:"state,omitempty"`
}

// VerifyCounts counts a verify run's findings.
type VerifyCounts struct {
	// Findings is how many there are.
	Findings int `json:"findings"`
	// ByKind and ByCheck count them by kind and by the check that found
	// them.
	ByKind  map[string]int `json:"by_kind"`
	ByCheck map[string]int `json:"by_check"`
	// DockerDetects is how many of them Docker itself would notice.
	DockerDetects int `json:"docker_detects"`
}

// VerifyFindingsDocument is `dlayer verify --quiet --format json`: the
// findings alone.
type VerifyFindingsDocument struct {
	Header
	Findings []verify.Finding `json:"findings"`
}
