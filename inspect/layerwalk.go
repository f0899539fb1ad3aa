package inspect

import (
	"fmt"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// DeadKind is how a layer makes an entry of a layer below it invisible.
type DeadKind string

// The ways an entry dies.
const (
	// DeadDeleted: a whiteout at its path or at a dir above it.
	DeadDeleted DeadKind = "deleted"
	// DeadOverwritten: an entry of the same path in a layer above.
	DeadOverwritten DeadKind = "overwritten"
	// DeadHidden: below an opaque dir of a layer above.
	DeadHidden DeadKind = "hidden"
	// DeadReplaced: below a dir that a non-dir of a layer above replaced.
	DeadReplaced DeadKind = "replaced"
)

func (k DeadKind) String() string { return string(k) }

// DeadEntry is an entry of a lower layer that a layer above makes
// invisible: no container of the stack sees it, and its bytes stay in its
// layer.
type DeadEntry struct {
	// Layer is the index in the stack (top first) of the layer holding it.
	Layer int
	Path  string
	Stat  layerfs.Stat
	Kind  DeadKind
	// By is the path of the upper entry that makes it invisible (Path
	// itself, or the dir above it).
	By string
}

// EntryCount is a number of entries and the bytes they hold: Docker's
// size, st_size of the non-dirs, each inode once (dirs and whiteouts 0),
// as layerdb's size counts.
type EntryCount struct {
	Entries int   `json:"entries"`
	Bytes   int64 `json:"bytes"`
}

// Plus is c and n together.
func (c EntryCount) Plus(n EntryCount) EntryCount {
	return EntryCount{Entries: c.Entries + n.Entries, Bytes: c.Bytes + n.Bytes}
}

// LayerWalk is what walking one layer of a stack against the layers below
// it finds: its entries classified as explain classifies a container's
// writable layer (added, modified, copied_up, whiteout, opaque…, each with
// the lower layer it shadows), and the entries below that it kills.
type LayerWalk struct {
	Changes []Change
	// Counts are the changes by kind.
	Counts map[ChangeKind]EntryCount
	Dead   []DeadEntry
	// Size is Docker's size of the layer dir (st_size of non-dirs, each
	// inode once), DiskUsage its allocated bytes.
	Size, DiskUsage int64
	Findings        []Finding
}

// WalkLayer walks layer i of stack (top first, each layer's Dir its
// content dir) against the layers below it, by the union rules of the
// store's driver. A lower dir that cannot be opened is a finding, and the
// walk goes on without it.
func (s *Store) WalkLayer(stack []StackLayer, i int) (*LayerWalk, error) {
	if i < 0 || i >= len(stack) {
		return nil, fmt.Errorf("layer %d of a stack of %d", i, len(stack))
	}
	upper, err := s.fs.OpenDir(stack[i].Dir)
	if err != nil {
		return nil, fmt.Errorf("layer %d: %w", i, err)
	}
	defer upper.Close()
	out := &LayerWalk{}
	w := &walker{f: s.graph.Format(), inodes: map[[2]uint64]bool{}, dead: func(d DeadEntry) { out.Dead = append(out.Dead, d) },
		counts: map[ChangeKind]EntryCount{}, counted: map[[2]uint64]bool{}}
	for k := i + 1; k < len(stack); k++ {
		ld, err := s.fs.OpenDir(stack[k].Dir)
		if err != nil {
			out.Findings = append(out.Findings, Finding{Kind: "layer_dir_missing", Path: stack[k].Dir, Message: err.Error()})
			continue
		}
		defer ld.Close()
		w.roots = append(w.roots, ldir{layer: k, d: ld})
	}
	w.origin = func(layer int, p string) *Origin { return stackOrigin(stack, layer, p) }
	if err := w.walk(upper, w.roots); err != nil {
		return nil, fmt.Errorf("layer %d: %w", i, err)
	}
	out.Changes, out.Counts, out.Size, out.DiskUsage = w.changes, w.counts, w.rwSize, w.rwDisk
	out.Findings = append(out.Findings, w.finds...)
	return out, nil
}

// stackOrigin is the Origin of an entry of layer (an index of stack) at p.
func stackOrigin(stack []StackLayer, layer int, p string) *Origin {
	if layer < 0 || layer >= len(stack) {
		return &Origin{Layer: "unknown", Path: p}
	}
	l := stack[layer]
	return &Origin{Layer: string(l.Role), Position: l.Position, ChainID: l.ChainID, DiffID: l.DiffID, CreatedBy: l.CreatedBy, Path: p}
}

// DeadTally counts what dead entries cost: each non-dir's bytes once per
// inode, with the last of its names in its layer to die (until then
// another name still shows them).
type DeadTally struct {
	links map[deadInode]uint64
}

type deadInode struct {
	layer    int
	dev, ino uint64
}

// Add counts d: n is its entry and the bytes its death frees; live says
// that another name of its inode still shows them (a hardlink), dir that
// it is a dir (no bytes, not a file).
func (t *DeadTally) Add(d DeadEntry) (n EntryCount, live bool) {
	n.Entries = 1
	if d.Stat.IsDir() {
		return n, false
	}
	if t.links == nil {
		t.links = map[deadInode]uint64{}
	}
	k := deadInode{d.Layer, d.Stat.Dev, d.Stat.Ino}
	t.links[k]++
	if t.links[k] < max(d.Stat.Nlink, 1) {
		return n, true
	}
	n.Bytes = d.Stat.Size
	return n, false
}
