package inspect

import (
	"time"

	"github.com/opencontainers/go-digest"
)

// ChangeKind says what an entry of a writable layer did.
type ChangeKind string

// The kinds of entries of a writable layer.
const (
	KindAdded          ChangeKind = "added"
	KindModified       ChangeKind = "modified"
	KindCopiedUp       ChangeKind = "copied_up"
	KindMetadataCopyUp ChangeKind = "metadata_copy_up"
	KindWhiteout       ChangeKind = "whiteout"
	KindOpaque         ChangeKind = "opaque"
	KindRedirect       ChangeKind = "redirect"
)

// String returns the kind as written in JSON.
func (k ChangeKind) String() string { return string(k) }

// ChangeKinds lists the kinds, in the order reports count them.
func ChangeKinds() []ChangeKind {
	return []ChangeKind{KindAdded, KindModified, KindCopiedUp, KindMetadataCopyUp, KindWhiteout, KindOpaque, KindRedirect}
}

// Change is one entry of a container's upper dir, classified against the
// merged view of the layers below it.
type Change struct {
	// Path is absolute inside the container. It may hold any byte but NUL
	// and "/" in a name; report escapes it for display.
	Path string     `json:"path"`
	Kind ChangeKind `json:"kind"`
	// Type is the file type of the entry in the upper dir (for a whiteout:
	// of the entry it deletes, when there is one).
	Type string `json:"type"`
	// Size is st_size of the upper entry: for copies, the bytes the
	// copy-on-write copy costs.
	Size int64 `json:"size"`
	// DiskUsage is the space the upper entry allocates (st_blocks*512).
	DiskUsage int64     `json:"disk_usage"`
	Mode      string    `json:"mode"` // octal permission bits, e.g. "0644", "4755"
	UID       uint32    `json:"uid"`
	GID       uint32    `json:"gid"`
	Mtime     time.Time `json:"mtime"`
	Ctime     time.Time `json:"ctime"`
	// Phase places the change in the container's life by its ctime (or
	// mtime when ctimes are unreliable): before-create, at-create, running,
	// after-stop (see Timeline).
	Phase Phase `json:"phase"`
	// LinkTarget is a symlink's target, as text (never followed).
	LinkTarget string `json:"link_target,omitempty"`
	// Changed says, for modified entries, what differs from the lower
	// entry: content, size, mode, owner, mtime, type, capability, rdev.
	Changed []string `json:"changed,omitempty"`
	// Origin is the layer holding the entry this one shadows; nil for added.
	Origin *Origin `json:"origin"`
	// Lower is the metadata of the shadowed lower entry, for comparing
	// (e.g. mode 0644 in the image, 4755 now); nil for added entries.
	Lower *Meta `json:"lower,omitempty"`
	// Hides lists, for an opaque dir, the lower entries it hides.
	Hides []string `json:"hides,omitempty"`
	// Redirect is a renamed dir's overlay.redirect value.
	Redirect string `json:"redirect,omitempty"`
	// SHA256 is the sha256 of a regular file's content, hex (explain
	// --hash: added and changed files; a metadata-only copy's is its lower
	// data's).
	SHA256 string `json:"sha256,omitempty"`
	// Marker names how a whiteout or opaque dir is stored on disk.
	Marker string `json:"marker,omitempty"`
	// Note adds a fact that the kind alone does not say.
	Note string `json:"note,omitempty"`
	// Escaped is set (by the JSON writer) when path, hides or link_target
	// held bytes that are not UTF-8 and are given in dlayer's escaped form.
	Escaped bool `json:"escaped,omitempty"`
	// DockerDiff is the letter `docker diff` shows for this path (A, C, D),
	// or empty when docker diff does not list it.
	DockerDiff string `json:"docker_diff"`
}

// Origin names the lower layer an entry comes from.
type Origin struct {
	// Layer is "init" (the container's -init layer) or "image".
	Layer string `json:"layer"`
	// Position is the image layer's position, 1 = base; 0 for init.
	Position  int           `json:"position,omitempty"`
	ChainID   digest.Digest `json:"chain_id,omitempty"`
	DiffID    digest.Digest `json:"diff_id,omitempty"`
	CreatedBy string        `json:"created_by,omitempty"`
	// Path is the entry's path in that layer when it differs from the
	// change's path (redirects).
	Path string `json:"path,omitempty"`
}

// Meta is an entry's metadata as dlayer compares it.
type Meta struct {
	Type  string    `json:"type"`
	Mode  string    `json:"mode"`
	UID   uint32    `json:"uid"`
	GID   uint32    `json:"gid"`
	Size  int64     `json:"size"`
	Mtime time.Time `json:"mtime"`
}

// DiffLine is one line of `docker diff`.
type DiffLine struct {
	Kind string `json:"kind"` // A, C or D
	Path string `json:"path"`
}
