package overlay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// ErrBadLowerID is returned for a lower-id file that does not name a
// layer dir.
var ErrBadLowerID = errors.New("malformed overlay lower-id")

// ErrNoInit is the error of a container's rw layer whose init layer dir
// (<mount-id>-init) is missing.
var ErrNoInit = errors.New("init layer dir missing")

// InitSuffix ends the name of a container's init layer dir.
const InitSuffix = "-init"

// The names inside a layer dir (moby daemon/graphdriver/overlay).
const (
	rootDir     = "root"
	upperDir    = "upper"
	workDir     = "work"
	mergedDir   = "merged"
	lowerIDFile = "lower-id"
)

// Home is the legacy overlay driver directory, <root>/overlay.
type Home struct {
	Dir string
	// FS reads the driver's files; nil reads the machine's.
	FS layerfs.Opener
}

// Dirs are the paths of one layer dir. It has either Root (an image
// layer) or Upper, Work, Merged and LowerID (a container's layer).
type Dirs struct {
	Layer   string // <home>/<id>
	Root    string
	Upper   string
	Work    string
	Merged  string
	LowerID string
}

// Dirs returns the paths of layer id (a cache-id, mount-id or
// <mount-id>-init). It does not check that they exist.
func (h Home) Dirs(id string) Dirs {
	l := filepath.Join(h.Dir, id)
	return Dirs{Layer: l, Root: filepath.Join(l, rootDir), Upper: filepath.Join(l, upperDir),
		Work: filepath.Join(l, workDir), Merged: filepath.Join(l, mergedDir), LowerID: filepath.Join(l, lowerIDFile)}
}

// ValidID reports whether id can name a directory of the driver home.
func ValidID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, "/\x00\n")
}

// Form is which of the driver's two kinds of layer dir a layer has.
type Form int

// The forms of a layer dir.
const (
	// FormMissing: the dir has neither root/ nor upper/ nor lower-id.
	FormMissing Form = iota
	// FormRoot: root/, a whole tree (an image layer; a scratch image's
	// container init layer).
	FormRoot
	// FormUnion: upper/, work/ and lower-id (a container's rw or init
	// layer), mounted over the root/ that lower-id names.
	FormUnion
)

// String names the form.
func (f Form) String() string {
	switch f {
	case FormRoot:
		return "root"
	case FormUnion:
		return "union"
	}
	return "missing"
}

// Form says which form layer id has on disk. root/ wins, as in moby's Get.
func (h Home) Form(id string) Form {
	o := layerfs.OrOS(h.FS)
	x := h.Dirs(id)
	if fi, err := o.Lstat(x.Root); err == nil && fi.IsDir() {
		return FormRoot
	}
	for _, p := range []string{x.Upper, x.LowerID} {
		if _, err := o.Lstat(p); err == nil {
			return FormUnion
		}
	}
	return FormMissing
}

// LowerID reads <id>/lower-id: the layer whose root/ the union of id is
// mounted over. exists is false when there is no such file.
func (h Home) LowerID(id string) (lower string, exists bool, err error) {
	p := h.Dirs(id).LowerID
	s, err := layerfs.ReadSmall(layerfs.OrOS(h.FS), p, 4096)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", true, err
	}
	if !ValidID(s) {
		return "", true, fmt.Errorf("%s: %w: %q is not a layer dir name", p, ErrBadLowerID, s)
	}
	return s, true, nil
}
