package inspect

import (
	"fmt"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// RWSize is Docker's SizeRw of container ref, by the driver's rule
// (Terms.RWSize): the st_size of its upper dir's entries, each inode
// once (overlay2, aufs), or of what its `docker diff` lists as added or
// changed (the legacy overlay driver). It is the rw layer's Size in
// Explain.
func (s *Store) RWSize(ref string) (int64, error) {
	x, err := s.explainChanges(ref, ExplainOptions{})
	if err != nil {
		return 0, err
	}
	return x.Layers[0].Size, nil
}

// TarFilesSize is the size of the regular files that are layer dir
// content's own as the driver's Format reads them (a whiteout, a
// bookkeeping file and an entry the layer shares with the one below are
// not), each inode once: for a driver whose Terms.LayerSize is
// SizeTarFiles, the number archive.UnpackLayer counted as it applied the
// layer's tar, which layerdb's size file holds. Depth first with an
// explicit stack, one open descriptor per level; never follows a symlink.
func (s *Store) TarFilesSize(content string) (int64, error) {
	f := s.graph.Format()
	root, err := s.fs.OpenDir(content)
	if err != nil {
		return 0, err
	}
	type level struct {
		d    *layerfs.Dir
		ents []layerfs.Entry
	}
	var size int64
	seen := map[[2]uint64]bool{}
	ents, err := f.ReadDir(root)
	stack := []level{{root, ents}}
	defer func() {
		for _, l := range stack {
			l.d.Close()
		}
	}()
	for err == nil && len(stack) > 0 {
		top := &stack[len(stack)-1]
		if len(top.ents) == 0 {
			top.d.Close()
			stack = stack[:len(stack)-1]
			continue
		}
		e := top.ents[0]
		top.ents = top.ents[1:]
		if e.Kind != layerfs.Plain {
			continue
		}
		switch e.Type() {
		case layerfs.TypeFile:
			if e.Stat.Nlink > 1 {
				k := [2]uint64{e.Stat.Dev, e.Stat.Ino}
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			size += e.Stat.Size
		case layerfs.TypeDir:
			sub, serr := top.d.Sub(e.RawName)
			if serr != nil {
				err = fmt.Errorf("%s/%s: %w", top.d.Path, e.RawName, serr)
				break
			}
			var es []layerfs.Entry
			es, err = f.ReadDir(sub)
			stack = append(stack, level{sub, es})
		}
	}
	return size, err
}
