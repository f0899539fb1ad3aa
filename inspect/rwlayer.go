package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// MountRecord is layerdb/mounts/<container ID>/: the container's rw layer.
type MountRecord struct {
	// MountID names the driver dir of the rw layer (random, not the container ID).
	MountID string `json:"mount_id"`
	// InitID names the driver dir of the init layer ("<mount-id>-init").
	InitID string `json:"init_id"`
	// Parent is the chain ID of the image's top layer; empty for scratch.
	Parent digest.Digest `json:"parent,omitempty"`
}

// MountRecord reads layerdb/mounts/<containerID>/.
func (s *Store) MountRecord(containerID string) (MountRecord, error) {
	if !isHex64(containerID) {
		return MountRecord{}, fmt.Errorf("container ID %q: %w", containerID, ErrMalformed)
	}
	dir := s.imageDir("layerdb", "mounts", containerID)
	var m MountRecord
	var err error
	if m.MountID, err = readID(filepath.Join(dir, "mount-id")); err != nil {
		return m, err
	}
	if m.InitID, err = readID(filepath.Join(dir, "init-id")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	if m.Parent, err = readDigest(filepath.Join(dir, "parent")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	return m, nil
}

func readID(p string) (string, error) {
	s, err := layerfs.ReadSmallFile(p, 4096)
	if err != nil {
		return "", err
	}
	if !validID(s) {
		return "", fmt.Errorf("%s: %w: %q is not a directory name", p, ErrMalformed, s)
	}
	return s, nil
}

// LiveMount is an overlay mount seen in mountinfo, with its option paths
// made absolute (relative "l/…" forms resolved against the driver home).
type LiveMount struct {
	MountPoint string   `json:"mount_point"`
	LowerDirs  []string `json:"lower_dirs"`
	UpperDir   string   `json:"upper_dir"`
	WorkDir    string   `json:"work_dir"`
	Options    string   `json:"options"`
}

// RWLayer describes a container's writable layer and where its layers live.
type RWLayer struct {
	MountRecord
	// Driver is the storage driver of the layer ("overlay2", "aufs").
	Driver string `json:"driver"`
	// UpperDir is the writable layer's content: overlay2/<mount-id>/diff,
	// aufs/diff/<mount-id>.
	UpperDir string `json:"upper_dir"`
	// WorkDir is overlayfs's work dir; empty on aufs.
	WorkDir   string `json:"work_dir"`
	MergedDir string `json:"merged_dir"`
	InitDir   string `json:"init_dir"`
	// ParentsFile records the lower layers: overlay2/<mount-id>/lower,
	// aufs/layers/<mount-id>.
	ParentsFile string `json:"parents_file"`
	// LowerDirs are the lower layers' content dirs, uppermost first, resolved
	// through l/ on overlay2 — docker inspect's GraphDriver.Data.LowerDir.
	LowerDirs []string `json:"lower_dirs"`
	// LowerLinks are the entries of the parents file as written ("l/…" on
	// overlay2, layer ids on aufs).
	LowerLinks []string `json:"lower_links"`
	// Link is the rw layer's short name in l/.
	Link string `json:"link,omitempty"`
	// Mounted says whether mountinfo shows the overlay mount of UpperDir;
	// null when no mount data was read.
	Mounted *bool      `json:"mounted"`
	Mount   *LiveMount `json:"mount,omitempty"`
}

// GraphDriverLowerDir is LowerDirs joined as docker inspect shows them.
func (r RWLayer) GraphDriverLowerDir() string { return strings.Join(r.LowerDirs, ":") }
