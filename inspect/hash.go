package inspect

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"path"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// HashFile is the sha256 of the regular file at p (absolute inside the
// layer) below the layer dir dir, and its size, read through the store's
// opener: beneath the root, no symlink in any component, nothing but a
// regular file opened, in bounded memory however big it is.
func (s *Store) HashFile(dir, p string) (digest.Digest, int64, error) {
	f, err := s.fs.OpenFile(dir+path.Clean("/"+p), math.MaxInt64)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, 256<<10))
	if err != nil {
		return "", n, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)), n, nil
}

// HashChanges sets the SHA256 of every added or changed regular file of
// x's writable layer (to match against lists of known-bad hashes): from
// the upper dir, or, for a metadata-only copy, from the lower layer its
// data is in. A file that cannot be read is a finding.
func (s *Store) HashChanges(x *Explanation) {
	dirOf := map[digest.Digest]string{}
	for _, l := range x.Layers {
		if l.ChainID != "" {
			dirOf[l.ChainID] = l.Dir
		}
	}
	for i := range x.Changes {
		c := &x.Changes[i]
		if c.Type != string(layerfs.TypeFile) {
			continue
		}
		dir, p := x.RWLayer.UpperDir, c.Path
		switch c.Kind {
		case KindAdded, KindModified, KindCopiedUp:
		case KindMetadataCopyUp:
			if c.Origin == nil || dirOf[c.Origin.ChainID] == "" {
				continue
			}
			dir = dirOf[c.Origin.ChainID]
			if c.Origin.Path != "" {
				p = c.Origin.Path
			}
		default:
			continue
		}
		d, _, err := s.HashFile(dir, p)
		if err != nil {
			x.Findings = append(x.Findings, Finding{Kind: "unreadable_entry", Path: dir + p, Message: "not hashed: " + err.Error()})
			continue
		}
		c.SHA256 = d.Encoded()
	}
}
