package inspect

import (
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// The core's helpers for the feature packages (whose, du, verify): small
// pieces of what the store knows, exported so that a feature does not
// copy them.

// ShortID is the 12-character form Docker prints of an ID or a digest
// ("sha256:" dropped).
func ShortID(id string) string { return shortID(id) }

// IsHex64 reports whether s is 64 lowercase hex digits (the encoded part
// of a sha256 digest, or a container ID).
func IsHex64(s string) bool { return isHex64(s) }

// ValidID reports whether id can name a directory: not empty, ".", "..",
// and without "/" or NUL.
func ValidID(id string) bool { return validID(id) }

// TreeUsage is Docker's directory.Size of the tree at dir (st_size of
// non-dirs, each inode once) and the disk usage of its entries
// (st_blocks*512, each inode once; dir itself not counted). A missing dir
// is 0, 0 and no error.
func (s *Store) TreeUsage(dir string) (size, disk int64, err error) { return treeUsage(s.fs, dir) }

// ImageStack returns the layers of image id as a stack, top first (Role
// "image", Dir the content dir), and the findings about them that
// ImageLayers makes. An unreadable image is no layers and a finding.
func (s *Store) ImageStack(id digest.Digest) ([]StackLayer, []Finding) {
	x := &Explanation{}
	st := s.imageLayers(Container{ImageID: id}, x)
	return st, x.Findings
}

// ResolveLowerDir maps a lower dir of a live mount to the content dir of
// the layer it names when it is one of the driver's short links (read as
// text, never followed); any other path is returned cleaned.
func (s *Store) ResolveLowerDir(p string) string { return s.resolveLowerPath(p) }

// OpenDir opens a dir of the store (a layer's content dir) through its
// confined opener, for a walk by descriptor.
func (s *Store) OpenDir(dir string) (*layerfs.Dir, error) { return s.fs.OpenDir(dir) }
