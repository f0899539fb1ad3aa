package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// maxConfig bounds an image config file (real ones are a few KiB).
const maxConfig = 16 << 20

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
	if err := id.Validate(); err != nil {
		return nil, fmt.Errorf("image ID %q: %w", id, err)
	}
	p := s.imageDir("imagedb", "content", string(id.Algorithm()), id.Encoded())
	b, err := layerfs.ReadFileLimit(p, maxConfig)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("image %s: %w: no config %s", id.Encoded()[:12], ErrNotFound, p)
	}
	if err != nil {
		return nil, err
	}
	img := &Image{ID: id, Path: p}
	if got := id.Algorithm().FromBytes(b); got != id {
		img.Findings = append(img.Findings, Finding{Kind: "image_id_mismatch", Path: p,
			Message: fmt.Sprintf("config content hashes to %s, not to its name %s", got, id)})
	}
	if img.Config, err = ParseImageConfig(strings.NewReader(string(b))); err != nil {
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
	s.tagsOnce.Do(func() { s.tags, s.tagsErr = s.readTags() })
	return s.tags, s.tagsErr
}

func (s *Store) readTags() (map[digest.Digest][]string, error) {
	p := s.imageDir("repositories.json")
	b, err := layerfs.ReadFileLimit(p, 256<<20)
	if errors.Is(err, os.ErrNotExist) {
		return map[digest.Digest][]string{}, nil
	}
	if err != nil {
		return map[digest.Digest][]string{}, err
	}
	t, err := ParseRepositories(strings.NewReader(string(b)))
	if err != nil {
		return t, fmt.Errorf("%s: %w", p, err)
	}
	return t, nil
}

// ParseRepositories decodes repositories.json:
// {"Repositories":{"name":{"name:tag":"sha256:<image ID>"}}}.
func ParseRepositories(r io.Reader) (map[digest.Digest][]string, error) {
	var doc struct {
		Repositories map[string]map[string]string
	}
	out := map[digest.Digest][]string{}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return out, fmt.Errorf("%w: repositories.json: %v", ErrMalformed, err)
	}
	var bad []string
	for _, refs := range doc.Repositories {
		for ref, id := range refs {
			d, err := digest.Parse(id)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s -> %q", ref, id))
				continue
			}
			out[d] = append(out[d], ref)
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return out, fmt.Errorf("%w: repositories.json: references to invalid image IDs: %s", ErrMalformed, strings.Join(bad, ", "))
	}
	return out, nil
}

// ImageIDs lists the image IDs of imagedb/content.
func (s *Store) ImageIDs() ([]digest.Digest, error) {
	dir := s.imageDir("imagedb", "content", "sha256")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []digest.Digest
	for _, e := range ents {
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if d.Validate() == nil {
			ids = append(ids, d)
		}
	}
	return ids, nil
}

// shortID is the 12-character form Docker prints.
func shortID(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
