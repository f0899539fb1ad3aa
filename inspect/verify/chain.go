package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// setDepths numbers each layer from its base (1) by following parents;
// a chain that is broken or loops leaves depth 0, and each layer on a
// loop is a finding.
func (m *model) setDepths() {
	const (
		unseen = iota
		walking
		done
	)
	state := map[digest.Digest]int{}
	for _, l := range m.layerList() {
		var stack []*layerInfo
		base := 0 // depth below the stack; -1: broken
		for cur := l; ; {
			if s := state[cur.chain]; s == done {
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
					m.add(Finding{Kind: KindParentCycle, ObjectType: ObjectLayer, Object: c.chain.String(), Path: p, File: p,
						Message: fmt.Sprintf("following parents from this layer comes back to it after %d layer(s)", len(stack)-i)})
				}
				base = -1
				break
			}
			state[cur.chain] = walking
			stack = append(stack, cur)
			if cur.parent == "" {
				if !cur.readable && cur.diff == "" {
					base = -1
				}
				break
			}
			if cur = m.layers[cur.parent]; cur == nil {
				base = -1
				break
			}
		}
		for i := len(stack) - 1; i >= 0; i-- {
			if base >= 0 {
				base++
				stack[i].depth = base
			}
			state[stack[i].chain] = done
		}
	}
}

func describeLstat(fi os.FileInfo, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case err != nil:
		return err.Error()
	}
	return typeOfMode(fi.Mode())
}

func typeOfMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "dir"
	case m.IsRegular():
		return "file"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "char"
	case m&fs.ModeDevice != 0:
		return "block"
	}
	return "unknown"
}
