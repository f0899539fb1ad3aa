package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerdb"
	"github.com/opencontainers/go-digest"
)

// ImageConfig is the part of an image config (imagedb content) dlayer uses.
type ImageConfig = backend.ImageConfig

// History is one image history entry.
type History = backend.History

// ParseImageConfig decodes an image config and validates its diff IDs.
func ParseImageConfig(r io.Reader) (ImageConfig, error) {
	var c ImageConfig
	if err := json.NewDecoder(r).Decode(&c); err != nil {
		return c, fmt.Errorf("%w: image config: %v", ErrMalformed, err)
	}
	for i, d := range c.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return c, fmt.Errorf("%w: image config: rootfs.diff_ids[%d] %q: %v", ErrMalformed, i, d, err)
		}
	}
	return c, nil
}

// Image is an image of the store.
type Image struct {
	ID     digest.Digest
	Config ImageConfig
	// Tags are the references repositories.json maps to this image
	// ("name:tag" or "name@sha256:…"), sorted.
	Tags []string
	// Path is the config file.
	Path string
	// Findings are problems with this image's files (e.g. a config whose
	// sha256 is not the image ID).
	Findings []Finding
}

// Image reads the image config of id. The config's sha256 must equal the
// ID; if it does not, the image is still returned with a finding.
func (s *Store) Image(id digest.Digest) (*Image, error) {
	b, p, err := s.meta.ImageConfig(id)
	if err != nil {
		return nil, err
	}
	img := &Image{ID: id, Path: p}
	want, what := id, "its name"
	if cd, ok := s.meta.src.(backend.ConfigDigests); ok {
		if want, err = cd.ConfigDigest(id); err != nil {
			return nil, err
		}
		what = "the digest its manifest names"
	}
	if got := want.Algorithm().FromBytes(b); got != want {
		img.Findings = append(img.Findings, Finding{Kind: "image_id_mismatch", Path: p,
			Message: fmt.Sprintf("config content hashes to %s, not to %s %s", got, what, want)})
	}
	if img.Config, err = ParseImageConfig(bytes.NewReader(b)); err != nil {
		return img, fmt.Errorf("%s: %w", p, err)
	}
	tags, err := s.Tags()
	if err != nil {
		img.Findings = append(img.Findings, Finding{Kind: "repositories_unreadable", Path: s.imageDir("repositories.json"), Message: err.Error()})
	}
	img.Tags = tags[id]
	return img, nil
}

// Tags reads repositories.json (once per Store) and returns the
// references of each image ID. A missing file means no tags. The map is
// shared: callers must not modify it.
func (s *Store) Tags() (map[digest.Digest][]string, error) {
	t, _, err := s.meta.Tags()
	return t, err
}

// ParseRepositories decodes repositories.json:
// {"Repositories":{"name":{"name:tag":"sha256:<image ID>"}}}.
func ParseRepositories(r io.Reader) (map[digest.Digest][]string, error) {
	return layerdb.ParseRepositories(r)
}

// ImageIDs lists the store's image IDs (imagedb/content).
func (s *Store) ImageIDs() ([]digest.Digest, error) { return s.meta.ImageIDs() }

// shortID is the 12-character form Docker prints.
func shortID(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
