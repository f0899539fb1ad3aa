// Package layerdb reads the metadata Docker's graph drivers (overlay2,
// aufs, the legacy overlay driver) keep under image/<driver>/: layerdb
// (layers and container mounts), imagedb (image configs and parents) and
// repositories.json. It implements backend.Metadata for every graph
// driver backend; it knows no driver's layer dirs.
package layerdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// Size bounds of the metadata files: real ones are far smaller.
const (
	maxConfig       = 16 << 20  // an image config (a few KiB)
	maxRepositories = 256 << 20 // repositories.json
	maxID           = 4096      // cache-id, mount-id, init-id
	maxDigest       = 1024      // diff, parent
	maxSize         = 64        // size
)

// Store is image/<driver> of a data root.
type Store struct {
	dir string
	fs  layerfs.Opener
}

// New returns the metadata of driver's image store under root, read
// through o.
func New(root string, driver backend.Name, o layerfs.Opener) *Store {
	return &Store{dir: filepath.Join(root, "image", string(driver)), fs: layerfs.OrOS(o)}
}

var _ backend.Metadata = (*Store)(nil)

// Backend is a graph-driver backend called name: present when the root
// holds image/<name> (Present), bound to a root by open. Each graph-driver
// package (overlay2, aufs, the legacy overlay) is this with its own open.
func Backend(name backend.Name, open func(root string, o layerfs.Opener) backend.Driver) backend.Backend {
	return graphBackend{name, open}
}

type graphBackend struct {
	name backend.Name
	open func(root string, o layerfs.Opener) backend.Driver
}

func (b graphBackend) Name() backend.Name                                { return b.name }
func (b graphBackend) Detect(root string, o layerfs.Opener) bool         { return Present(root, b.name, o) }
func (b graphBackend) Open(root string, o layerfs.Opener) backend.Driver { return b.open(root, o) }

// Present reports whether root holds driver's graph-driver image store:
// image/<driver> is a directory (what every graph-driver backend's Detect
// asks).
func Present(root string, driver backend.Name, o layerfs.Opener) bool {
	fi, err := layerfs.OrOS(o).Lstat(filepath.Join(root, "image", string(driver)))
	return err == nil && fi.IsDir()
}

// Path joins elem to image/<driver>.
func (s *Store) Path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

// LayerPath is the layerdb directory of a chain ID.
func (s *Store) LayerPath(chain digest.Digest) string {
	return s.Path("layerdb", string(chain.Algorithm()), chain.Encoded())
}

// LayerIDs lists layerdb/sha256/: the chain IDs of the entries whose
// names are 64 hex digits, and, separately, every other name found there
// (in-flight "<hex>-<random>-removing" deletions and strays), sorted.
func (s *Store) LayerIDs() (chains []digest.Digest, other []string, err error) {
	ents, err := s.fs.ReadDir(s.Path("layerdb", "sha256"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		if IsHex64(e.Name()) && e.IsDir() {
			chains = append(chains, digest.NewDigestFromEncoded(digest.SHA256, e.Name()))
		} else {
			other = append(other, e.Name())
		}
	}
	sort.Strings(other)
	return chains, other, nil
}

// Layer reads the layerdb entry of a chain ID. The directory must exist;
// each file is validated (digests parse, size is a decimal number). Each
// file is read even when another is bad: every bad file is a
// backend.FileError, joined, and the fields of the others are set.
func (s *Store) Layer(chain digest.Digest) (backend.Layer, error) {
	if err := chain.Validate(); err != nil {
		return backend.Layer{}, fmt.Errorf("chain ID %q: %w", chain, err)
	}
	dir := s.LayerPath(chain)
	if _, err := s.fs.Lstat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return backend.Layer{}, fmt.Errorf("layer %s: %w: no directory %s", chain, backend.ErrNotFound, dir)
		}
		return backend.Layer{}, err
	}
	l := backend.Layer{ChainID: chain}
	var errs []error
	file := func(name string, err error) {
		if err != nil {
			errs = append(errs, &backend.FileError{Path: filepath.Join(dir, name), Err: err})
		}
	}
	var err error
	l.DiffID, err = readDigest(s.fs, filepath.Join(dir, "diff"))
	file("diff", err)
	if l.Parent, err = readDigest(s.fs, filepath.Join(dir, "parent")); errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	file("parent", err)
	l.CacheID, err = readID(s.fs, filepath.Join(dir, "cache-id"))
	file("cache-id", err)
	p := filepath.Join(dir, "size")
	sz, err := layerfs.ReadSmall(s.fs, p, maxSize)
	if err == nil {
		if l.Size, err = strconv.ParseInt(sz, 10, 64); err != nil || l.Size < 0 {
			l.Size, err = 0, fmt.Errorf("%s: %w: size %q is not a decimal byte count", p, backend.ErrMalformed, sz)
		}
	}
	file("size", err)
	return l, errors.Join(errs...)
}

// ImageIDs lists the image IDs of imagedb/content.
func (s *Store) ImageIDs() ([]digest.Digest, error) {
	ids, _, err := s.ImageNames()
	return ids, err
}

// ImageNames lists imagedb/content/sha256/: the image IDs (names that are
// sha256 digests) and, apart, every other name found there, sorted.
func (s *Store) ImageNames() (ids []digest.Digest, other []string, err error) {
	ents, err := s.fs.ReadDir(s.Path("imagedb", "content", "sha256"))
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if d.Validate() == nil {
			ids = append(ids, d)
		} else {
			other = append(other, e.Name())
		}
	}
	sort.Strings(other)
	return ids, other, nil
}

// ImageConfig reads imagedb/content/sha256/<id>.
func (s *Store) ImageConfig(id digest.Digest) ([]byte, string, error) {
	if err := id.Validate(); err != nil {
		return nil, "", fmt.Errorf("image ID %q: %w", id, err)
	}
	p := s.Path("imagedb", "content", string(id.Algorithm()), id.Encoded())
	b, err := s.fs.ReadFile(p, maxConfig)
	if errors.Is(err, os.ErrNotExist) {
		return nil, p, fmt.Errorf("image %s: %w: no config %s", id.Encoded()[:12], backend.ErrNotFound, p)
	}
	return b, p, err
}

// ImageParent reads imagedb/metadata/sha256/<id>/parent; ErrNotExist when
// the image has no recorded parent.
func (s *Store) ImageParent(id digest.Digest) (digest.Digest, string, error) {
	p := s.Path("imagedb", "metadata", "sha256", id.Encoded(), "parent")
	d, err := readDigest(s.fs, p)
	return d, p, err
}

// Tags reads repositories.json. A missing file means no tags.
func (s *Store) Tags() (map[digest.Digest][]string, string, error) {
	p := s.Path("repositories.json")
	b, err := s.fs.ReadFile(p, maxRepositories)
	if errors.Is(err, os.ErrNotExist) {
		return map[digest.Digest][]string{}, p, nil
	}
	if err != nil {
		return map[digest.Digest][]string{}, p, err
	}
	t, err := ParseRepositories(strings.NewReader(string(b)))
	if err != nil {
		return t, p, fmt.Errorf("%s: %w", p, err)
	}
	return t, p, nil
}

// ParseRepositories decodes repositories.json:
// {"Repositories":{"name":{"name:tag":"sha256:<image ID>"}}}.
func ParseRepositories(r io.Reader) (map[digest.Digest][]string, error) {
	var doc struct {
		Repositories map[string]map[string]string
	}
	out := map[digest.Digest][]string{}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return out, fmt.Errorf("%w: repositories.json: %v", backend.ErrMalformed, err)
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
		return out, fmt.Errorf("%w: repositories.json: references to invalid image IDs: %s", backend.ErrMalformed, strings.Join(bad, ", "))
	}
	return out, nil
}

// MountIDs lists layerdb/mounts/: the containers that have an rw layer,
// sorted.
func (s *Store) MountIDs() ([]string, error) {
	ents, err := s.fs.ReadDir(s.Path("layerdb", "mounts"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		ids = append(ids, e.Name())
	}
	sort.Strings(ids)
	return ids, nil
}

// MountRecord reads layerdb/mounts/<containerID>/.
func (s *Store) MountRecord(containerID string) (backend.MountRecord, error) {
	if !IsHex64(containerID) {
		return backend.MountRecord{}, fmt.Errorf("container ID %q: %w", containerID, backend.ErrMalformed)
	}
	dir := s.Path("layerdb", "mounts", containerID)
	var m backend.MountRecord
	var err error
	if m.MountID, err = readID(s.fs, filepath.Join(dir, "mount-id")); err != nil {
		return m, err
	}
	if m.InitID, err = readID(s.fs, filepath.Join(dir, "init-id")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	if m.Parent, err = readDigest(s.fs, filepath.Join(dir, "parent")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	return m, nil
}

// readDigest reads a file holding one digest ("sha256:<64 hex>").
func readDigest(o layerfs.Opener, path string) (digest.Digest, error) {
	s, err := layerfs.ReadSmall(o, path, maxDigest)
	if err != nil {
		return "", err
	}
	d, err := digest.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w: %q: %v", path, backend.ErrMalformed, s, err)
	}
	return d, nil
}

// readID reads a file holding one driver dir name (cache-id, mount-id).
func readID(o layerfs.Opener, p string) (string, error) {
	s, err := layerfs.ReadSmall(o, p, maxID)
	if err != nil {
		return "", err
	}
	if !ValidID(s) {
		return "", fmt.Errorf("%s: %w: %q is not a directory name", p, backend.ErrMalformed, s)
	}
	return s, nil
}

// ValidID reports whether id can name a directory: not empty, ".", "..",
// and without "/" or NUL.
func ValidID(id string) bool {
	if id == "" || id == "." || id == ".." || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] == '/' || id[i] == 0 {
			return false
		}
	}
	return true
}

// IsHex64 reports whether s is 64 lowercase hex digits (a sha256 or a
// container ID).
func IsHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
