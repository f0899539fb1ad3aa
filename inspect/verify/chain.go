package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// setDepths numbers each layer from its base (1) by following parents;
// a chain that is broken or loops leaves depth 0, and each layer on a
// loop is a finding.
func (m *model) setDepths() {
	state := map[digest.Digest]walkState{}
	for _, l := range m.layerList() {
		var stack []*layerInfo
		base := 0 // depth below the stack; -1: broken
		for cur := l; ; {
			if s := state[cur.ChainID]; s == done {
				base = cur.depth
				if base == 0 {
					base = -1
				}
				break
			} else if s == walking {
				i := 0
				for stack[i] != cur {
					i++
				}
				for _, c := range stack[i:] {
					p := filepath.Join(c.dir, "parent")
					m.add(Finding{Kind: KindParentCycle, ObjectType: ObjectLayer, Object: c.ChainID.String(), Path: p, File: p,
						Message: fmt.Sprintf("following parents from this layer comes back to it after %d layer(s)", len(stack)-i)})
				}
				base = -1
				break
			}
			state[cur.ChainID] = walking
			stack = append(stack, cur)
			if cur.Parent == "" {
				if !cur.readable && cur.DiffID == "" {
					base = -1
				}
				break
			}
			if cur = m.layers[cur.Parent]; cur == nil {
				base = -1
				break
			}
		}
		for i := len(stack) - 1; i >= 0; i-- {
			if base >= 0 {
				base++
				stack[i].depth = base
			}
			state[stack[i].ChainID] = done
		}
	}
}

// walkState is how far setDepths has followed a layer's parents.
type walkState int

const (
	unseen  walkState = iota // not reached yet
	walking                  // on the path being followed
	done                     // depth known (0: broken)
)

// String names the state.
func (w walkState) String() string {
	switch w {
	case unseen:
		return "unseen"
	case walking:
		return "walking"
	case done:
		return "done"
	}
	return fmt.Sprintf("walkState(%d)", int(w))
}

func describeLstat(fi os.FileInfo, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case err != nil:
		return err.Error()
	}
	return layerfs.ModeType(fi.Mode())
}

// describePath is describeLstat, naming a symlink's target (read, never
// followed).
func describePath(o layerfs.Opener, p string, fi os.FileInfo, err error) string {
	d := describeLstat(fi, err)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if t, e := o.Readlink(p); e == nil {
			d += " to " + t
		}
	}
	return d
}
