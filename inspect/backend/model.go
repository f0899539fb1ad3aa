package backend

import (
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// Sentinel errors shared by the core and the backends; test with errors.Is.
var (
	// ErrNotFound: no container, image or layer matches a reference.
	ErrNotFound = errors.New("not found")
	// ErrMalformed: a metadata file does not have the format Docker writes.
	ErrMalformed = errors.New("malformed")
)

// Finding is a problem found in the store: one entry that is not as Docker
// would have left it. The work goes on after a finding.
type Finding struct {
	// Kind is a short machine-readable name, e.g. "chain_id_mismatch".
	Kind FindingKind `json:"kind"`
	// Path is the file or directory concerned, when there is one.
	Path string `json:"path,omitempty"`
	// Message says what is wrong, in words.
	Message string `json:"message"`
}

// FindingKind names a kind of problem, as JSON and reports write it
// ("chain_id_mismatch"). Each feature defines the kinds it finds as
// constants of this type.
type FindingKind string

// String returns the kind as written.
func (k FindingKind) String() string { return string(k) }

// Layer is one image layer of the store (for a graph driver, one entry of
// layerdb: image/<driver>/layerdb/sha256/<chain>/).
type Layer struct {
	ChainID digest.Digest `json:"chain_id"`
	DiffID  digest.Digest `json:"diff_id"`
	// Parent is the parent layer's chain ID; empty for a base layer.
	Parent digest.Digest `json:"parent,omitempty"`
	// CacheID names the driver directory holding the content.
	CacheID string `json:"cache_id"`
	// Size is Docker's content size of the layer (layerdb's "size" file).
	Size int64 `json:"size"`
}

// MountRecord is a container's writable layer as the store records it
// (layerdb/mounts/<container ID>/ for a graph driver).
type MountRecord struct {
	// MountID names the driver dir of the rw layer (random, not the container ID).
	MountID string `json:"mount_id"`
	// InitID names the driver dir of the init layer ("<mount-id>-init").
	InitID string `json:"init_id"`
	// Parent is the chain ID of the image's top layer; empty for scratch.
	Parent digest.Digest `json:"parent,omitempty"`
}

// ImageConfig is the part of an image config (imagedb content) dlayer uses.
type ImageConfig struct {
	Created      time.Time `json:"created"`
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	RootFS       struct {
		Type    string          `json:"type"`
		DiffIDs []digest.Digest `json:"diff_ids"`
	} `json:"rootfs"`
	History []History `json:"history"`
}

// History is one image history entry. Entries with EmptyLayer made no layer
// (ENV, CMD, LABEL…); the others map, in order, to rootfs.diff_ids.
type History struct {
	Created    time.Time `json:"created"`
	CreatedBy  string    `json:"created_by"`
	Comment    string    `json:"comment,omitempty"`
	EmptyLayer bool      `json:"empty_layer,omitempty"`
}

// Metadata is where a store keeps what owns what: its layers, its images
// and the writable layers of its containers. The graph drivers share one
// implementation (package layerdb); a store that keeps its metadata
// elsewhere implements it over that. The core reads each item once per
// command and keeps it.
type Metadata interface {
	// Path joins elem to where the metadata lives (image/<driver> for a
	// graph driver), for reading and for messages.
	Path(elem ...string) string
	// LayerPath is where the record of layer chain lives.
	LayerPath(chain digest.Digest) string
	// LayerIDs lists the chain IDs of the store's layers and, apart, any
	// other names found among them (deletions in flight, strays), sorted.
	LayerIDs() (chains []digest.Digest, other []string, err error)
	// Layer reads one layer's record; ErrNotFound when there is none.
	// Each bad file is a FileError (joined when several are bad); the
	// fields of the files that read are set.
	Layer(chain digest.Digest) (Layer, error)
	// ImageIDs lists the store's image IDs.
	ImageIDs() ([]digest.Digest, error)
	// ImageConfig returns the raw config of image id and where it is;
	// ErrNotFound when there is none.
	ImageConfig(id digest.Digest) (raw []byte, path string, err error)
	// ImageParent is the image id was built FROM locally, when recorded.
	ImageParent(id digest.Digest) (parent digest.Digest, path string, err error)
	// Tags maps image IDs to their references ("name:tag", "name@sha256:…").
	Tags() (refs map[digest.Digest][]string, path string, err error)
	// MountIDs lists the containers that have a writable layer, sorted.
	MountIDs() ([]string, error)
	// MountRecord reads one container's writable layer record.
	MountRecord(containerID string) (MountRecord, error)

	// verify:
	// ImageNames lists the names of the image configs: the image IDs and,
	// apart, every other name found among them (strays), sorted.
	ImageNames() (ids []digest.Digest, other []string, err error)
}

// FileError is a problem with one file of a record (one file of a
// layerdb entry): the file, and why. A reader that reads a record's files
// one by one returns one FileError per bad file, joined (errors.Join), so
// that a caller can name each; its message is the cause's.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// LayerHistory returns, for each diff ID (base first), the history entry
// that created it, skipping empty_layer entries. ok is false when the
// history does not have one non-empty entry per layer; the entries that
// could be matched are still returned (missing ones are zero).
func (c ImageConfig) LayerHistory() (out []History, ok bool) {
	out = make([]History, len(c.RootFS.DiffIDs))
	i := 0
	for _, h := range c.History {
		if h.EmptyLayer {
			continue
		}
		if i < len(out) {
			out[i] = h
		}
		i++
	}
	return out, i == len(out)
}

// Container is a container of the store (for Docker, from
// containers/<id>/config.v2.json).
type Container struct {
	ID   string `json:"id"`
	Name string `json:"name"` // without the leading "/"
	// ImageRef is what the user asked for (Config.Image), e.g. "nginx:1".
	ImageRef string        `json:"image"`
	ImageID  digest.Digest `json:"image_id"`
	Driver   string        `json:"driver"`
	Created  time.Time     `json:"created"`
	State    State         `json:"state"`
	// Path is the config.v2.json file.
	Path string `json:"-"`
}

// State is the container state as last written by the daemon. Running may
// be stale after a crash of the host or the daemon.
type State struct {
	Status     string    `json:"status"` // created, running, paused, restarting, exited, dead, removing
	Running    bool      `json:"running"`
	Paused     bool      `json:"paused"`
	Restarting bool      `json:"restarting"`
	Dead       bool      `json:"dead"`
	Pid        int       `json:"pid"`
	ExitCode   int       `json:"exit_code"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// ContainerSource is a Metadata that lists its containers itself. The
// core reads a Docker data root's containers/<id>/config.v2.json for
// every other store.
type ContainerSource interface {
	Containers() ([]Container, []Finding, error)
}

// ConfigDigests is a Metadata whose image IDs are not the digests of
// their configs (containerd's image store names an image by its
// manifest's digest). ConfigDigest is what image id's config must hash to.
type ConfigDigests interface {
	ConfigDigest(id digest.Digest) (digest.Digest, error)
}

// DirRecords is a Metadata that records every layer dir of its driver's
// home itself (containerd's snapshotter metadata.db), so that a dir no
// layer or container owns is still told from an orphan.
type DirRecords interface {
	// DirRecord says what the store records of layer dir id; its Role is
	// DirUnrecorded when nothing does (an orphan).
	DirRecord(id string) DirRecord
}

// DirRecord is what a store records of one layer dir.
type DirRecord struct {
	Role DirRole
	// What names the record ("snapshot <key> (committed) of namespace moby").
	What string
}

// DirRole is what a store's record makes of a layer dir.
type DirRole uint8

const (
	// DirUnrecorded: no record names the dir.
	DirUnrecorded DirRole = iota
	// DirRecorded: a record of the store's namespace names it (a layer, a
	// container's, or one that nothing else names).
	DirRecorded
	// DirBuildCache: it is BuildKit's build cache.
	DirBuildCache
	// DirForeign: another tenant of the store's files records it (another
	// containerd namespace): not Docker's, never judged by dlayer.
	DirForeign
)

// Blobs is a Metadata whose content blobs (manifests, configs, compressed
// layers) lie outside the driver home: containerd's content store.
type Blobs interface {
	// BlobsDir is the dir holding the blobs, <dir>/<algorithm>/<hex>.
	BlobsDir() string
	// BlobUse says what blob d is to the store's images ("manifest",
	// "config", "layer", "index") and which images hold it, sorted; no
	// images when none does.
	BlobUse(d digest.Digest) (what string, images []digest.Digest)
}

// Cause is err as a message about path: without the path when err already
// names it (the path is said beside it), so that no message says
// "P: P: malformed".
func Cause(err error, path string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path && errors.Unwrap(err) == pe.Err && err == error(pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return strings.TrimPrefix(err.Error(), path+": ")
}

// EngineSizes is a Metadata whose engine sizes images and containers by
// rules of its own (containerd's image store: content blobs plus
// snapshots), not by layerdb's size files: the numbers the engine's
// /system/df reports, recomputed from the store.
type EngineSizes interface {
	// EngineSizes computes them; with measureRW false no container's
	// writable layer is walked (its SizeRw is the caller's, who walked it
	// already): only Below is set for containers.
	EngineSizes(measureRW bool) (EngineSizeReport, error)
}

// EngineSizeReport is what EngineSizes computed.
type EngineSizeReport struct {
	// Images are the images /system/df lists, by image ID.
	Images map[digest.Digest]EngineImageSize
	// Containers are keyed by container ID.
	Containers map[string]EngineContainerSize
	// LayersSize is /system/df's LayersSize (docker system df's images
	// total).
	LayersSize int64
}

// EngineImageSize is one image's Size and SharedSize.
type EngineImageSize struct {
	Size, SharedSize int64
}

// EngineContainerSize is one container's SizeRw and SizeRootFs, and
// Below, the part of SizeRootFs below its writable layer (SizeRootFs =
// SizeRw + Below); Err says why they could not be computed.
type EngineContainerSize struct {
	SizeRw, SizeRootFs, Below int64
	Err                       error
}
