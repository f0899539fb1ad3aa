package inspect

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"path"

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
