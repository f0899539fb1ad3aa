package aufs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// ErrBadLayers is returned for an aufs/layers/<id> file that does not have
// the form the driver writes.
var ErrBadLayers = errors.New("malformed aufs layers file")

// Home is the aufs driver directory, <root>/aufs.
type Home struct {
	Dir string
	// FS reads the driver's files; nil reads the machine's.
	FS layerfs.Opener
}

// Dirs are the paths of one layer's files.
type Dirs struct {
	Diff   string // <home>/diff/<id>: the content (branch)
	Mnt    string // <home>/mnt/<id>: the mount point
	Layers string // <home>/layers/<id>: the parent list
}

// Dirs returns the paths of layer id (a cache-id, mount-id or
// <mount-id>-init). It does not check that they exist.
func (h Home) Dirs(id string) Dirs {
	return Dirs{
		Diff:   filepath.Join(h.Dir, "diff", id),
		Mnt:    filepath.Join(h.Dir, "mnt", id),
		Layers: filepath.Join(h.Dir, "layers", id),
	}
}

// ValidID reports whether id can name an entry of diff/, layers/ or mnt/.
func ValidID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, "/\x00\n")
}

// Parents reads layers/<id>: the ids of the layers below id, nearest first.
// exists is false when the file is missing. A base layer has an empty file.
func (h Home) Parents(id string) (parents []string, exists bool, err error) {
	p := h.Dirs(id).Layers
	s, err := layerfs.ReadSmall(layerfs.OrOS(h.FS), p, 1<<20)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	return ParseParents(p, s)
}

// ParseParents parses the text of a layers file (read from path, named in
// errors). Blank lines are ignored, as the driver's reader does.
func ParseParents(path, s string) (parents []string, exists bool, err error) {
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !ValidID(line) {
			return parents, true, fmt.Errorf("%s:%d: %w: %q is not a layer id", path, i+1, ErrBadLayers, line)
		}
		parents = append(parents, line)
	}
	return parents, true, nil
}
