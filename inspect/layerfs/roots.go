package layerfs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Roots is an Opener over several trees, each confined by its own Opener
// (a Beneath per root): a path is read by the Opener of the deepest root it
// lies below, and a path below none of them is ErrOutsideRoot. A store
// whose files live in two trees (a Docker data root and a containerd root)
// reads both through one Roots, so every read stays confined to one of the
// roots it was given, with no symlink in any component below it.
type Roots struct {
	roots []rootOpener
	owned []Opener // the Openers Reopen opened, which Close closes
}

type rootOpener struct {
	dir string
	o   Opener
}

var _ Opener = (*Roots)(nil)

// NewRoots returns an Opener that reads a path below dir through
// by[dir]. Roots nest: a path is read by its deepest root.
func NewRoots(by map[string]Opener) *Roots {
	r := &Roots{}
	for d, o := range by {
		r.roots = append(r.roots, rootOpener{filepath.Clean(d), o})
	}
	sort.Slice(r.roots, func(i, j int) bool { return len(r.roots[i].dir) > len(r.roots[j].dir) })
	return r
}

// pick returns the Opener of the deepest root holding path.
func (r *Roots) pick(path string) (Opener, error) {
	p := filepath.Clean(path)
	for _, x := range r.roots {
		if p == x.dir || strings.HasPrefix(p, x.dir+"/") || x.dir == "/" {
			return x.o, nil
		}
	}
	var dirs []string
	for _, x := range r.roots {
		dirs = append(dirs, x.dir)
	}
	return nil, fmt.Errorf("%s: %w %s", path, ErrOutsideRoot, strings.Join(dirs, " or "))
}

// ReadFile reads path through its root's Opener.
func (r *Roots) ReadFile(path string, max int64) ([]byte, error) {
	o, err := r.pick(path)
	if err != nil {
		return nil, err
	}
	return o.ReadFile(path, max)
}

// ReadDir lists path through its root's Opener.
func (r *Roots) ReadDir(path string) ([]fs.DirEntry, error) {
	o, err := r.pick(path)
	if err != nil {
		return nil, err
	}
	return o.ReadDir(path)
}

// Lstat stats path through its root's Opener.
func (r *Roots) Lstat(path string) (fs.FileInfo, error) {
	o, err := r.pick(path)
	if err != nil {
		return nil, err
	}
	return o.Lstat(path)
}

// OpenDir opens path through its root's Opener.
func (r *Roots) OpenDir(path string) (*Dir, error) {
	o, err := r.pick(path)
	if err != nil {
		return nil, err
	}
	return o.OpenDir(path)
}

// Readlink reads path through its root's Opener.
func (r *Roots) Readlink(path string) (string, error) {
	o, err := r.pick(path)
	if err != nil {
		return "", err
	}
	return o.Readlink(path)
}

// OpenFile opens path through its root's Opener.
func (r *Roots) OpenFile(path string, max int64) (*os.File, error) {
	o, err := r.pick(path)
	if err != nil {
		return nil, err
	}
	return o.OpenFile(path, max)
}
