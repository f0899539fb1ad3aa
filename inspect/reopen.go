package inspect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

// Reopen opens the root again as s was opened (the same backends, driver
// and opener), with nothing read yet: a re-check of objects that changed
// while s was read (a live engine creating and removing containers and
// images) sees the disk as it is now, not s's memoized reads. An opener
// that keeps state (layerfs.Reopener, as Beneath keeps dir descriptors) is
// opened afresh; release closes it. The returned store reads the same
// driver's image store as s, with what s found this process can see (so
// a re-read hides what the scan's read hid, no more, no less).
func (s *Store) Reopen() (fresh *Store, release func(), err error) {
	fsys, release := s.fs, func() {}
	if r, ok := s.fs.(layerfs.Reopener); ok {
		o, err := r.Reopen()
		if err != nil {
			return nil, nil, fmt.Errorf("data root %s: reopen: %w", s.Root, err)
		}
		fsys = o
		if c, ok := o.(io.Closer); ok {
			release = func() { c.Close() }
		}
	}
	priv := s.priv
	fresh, err = OpenWith(s.Root, Options{Backends: s.reg, Driver: s.Driver, FS: fsys, Privilege: &priv})
	if err != nil {
		release()
		return nil, nil, err
	}
	return fresh, release, nil
}

// ContainerConfig reads one container's containers/<id>/config.v2.json, as
// Containers reads each (not memoized: it is for re-reading one container).
// exists is false when the container's dir is not there at all. find is
// the finding Containers would give for it: unreadable (c is then zero),
// or the config naming another ID (c is what it says).
func (s *Store) ContainerConfig(id string) (c Container, find *Finding, exists bool) {
	if src, ok := s.meta.src.(backend.ContainerSource); ok {
		cs, finds, _ := src.Containers()
		for _, x := range cs {
			if x.ID == id {
				return x, nil, true
			}
		}
		for _, f := range finds {
			if filepath.Base(filepath.Dir(f.Path)) == id {
				return Container{}, &f, true
			}
		}
		return Container{}, nil, false
	}
	dir := filepath.Join(s.Root, "containers")
	if _, err := s.fs.Lstat(filepath.Join(dir, id)); errors.Is(err, fs.ErrNotExist) {
		return Container{}, nil, false
	}
	c, find, _ = readContainerDir(s.fs, dir, id)
	return c, find, true
}
