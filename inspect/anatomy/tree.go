package anatomy

import (
	"slices"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect"
)

// Tree is every path of a stack's layers with what each layer did to it,
// from the same walks as the counts: the merged view as of any layer (what
// a container of the stack cut off at that layer would see), and for each
// entry the layer that provides it, the versions of the layers below that
// it shadows, and what the layers above do to it. dlayer browse is a view
// over it.
type Tree struct {
	// Stack is the layers, top first (the walks' indexes).
	Stack []inspect.StackLayer
	Root  *Node
	// Nodes counts the paths (of every layer, dead or alive).
	Nodes  int
	byPath map[string]*Node
}

// Node is one path of the union of the stack's layers.
type Node struct {
	Name     string
	Parent   *Node
	Children []*Node // by name
	// Events are what the layers did at this path, base first (stack
	// index descending), at most one per layer.
	Events []Event
}

// Event is what one layer does at a path: it has an entry there (Change),
// or it kills the path with an entry above it (a whiteout of a dir above,
// an opaque dir, a dir replaced by a non-dir).
type Event struct {
	// Layer is the stack index (top first) of the layer.
	Layer int
	// Change is the layer's entry at the path, classified against the
	// layers below; nil when the layer has none there.
	Change *Entry
	// Dead is how the layer makes the version below invisible (empty:
	// it does not, e.g. a first write or a metadata-only copy); By is the
	// path of the layer's entry that does it.
	Dead inspect.DeadKind
	By   string
}

// Entry is what the tree keeps of a layer's entry at a path: the fields
// of its inspect.Change (see there) that a view of the tree shows, without
// the path (the node's) or what explain alone needs, so that the tree of
// every path of a big image stays small.
type Entry struct {
	Kind         inspect.ChangeKind
	Type         string
	Mode         string
	UID, GID     uint32
	Size         int64
	Mtime, Ctime time.Time
	Phase        inspect.Phase
	LinkTarget   string
	Changed      []string
	Origin       *inspect.Origin
	Redirect     string
	Marker       string
}

func entryOf(c *inspect.Change) Entry {
	return Entry{Kind: c.Kind, Type: c.Type, Mode: c.Mode, UID: c.UID, GID: c.GID, Size: c.Size, Mtime: c.Mtime, Ctime: c.Ctime,
		Phase: c.Phase, LinkTarget: c.LinkTarget, Changed: c.Changed, Origin: c.Origin, Redirect: c.Redirect, Marker: c.Marker}
}

// Present says whether the path exists in the merged view after the
// event: the layer has an entry there that is not a whiteout.
func (e Event) Present() bool { return e.Change != nil && e.Change.Kind != inspect.KindWhiteout }

// Path is the node's absolute path.
func (n *Node) Path() string {
	if n.Parent == nil {
		return "/"
	}
	var parts []string
	for m := n; m.Parent != nil; m = m.Parent {
		parts = append(parts, m.Name)
	}
	slices.Reverse(parts)
	return "/" + strings.Join(parts, "/")
}

// At is the event that decides the path as of layer i: the one of the
// topmost layer at or below i.
func (n *Node) At(i int) (Event, bool) {
	for k := len(n.Events) - 1; k >= 0; k-- {
		if n.Events[k].Layer >= i {
			return n.Events[k], true
		}
	}
	return Event{}, false
}

// Own is layer i's own event at the path.
func (n *Node) Own(i int) (Event, bool) {
	e, ok := n.At(i)
	return e, ok && e.Layer == i
}

// Visible says whether the path is in the merged view as of layer i. The
// root always is.
func (n *Node) Visible(i int) bool {
	if n.Parent == nil {
		return true
	}
	e, ok := n.At(i)
	return ok && e.Present()
}

// Above is the first event of a layer above i at the path: what happens
// next to the version seen as of i.
func (n *Node) Above(i int) (Event, bool) {
	for _, e := range n.Events {
		if e.Layer < i {
			return e, true
		}
	}
	return Event{}, false
}

// Shadowed are the versions below the one that decides the path as of
// layer i that it hides, nearest first: the entries of lower layers at
// the same path, back to the last time the path did not exist.
func (n *Node) Shadowed(i int) []Event {
	var out []Event
	started := false
	for k := len(n.Events) - 1; k >= 0; k-- {
		e := n.Events[k]
		if e.Layer < i {
			continue
		}
		if !started {
			started = true
			continue
		}
		if !e.Present() {
			break
		}
		out = append(out, e)
	}
	return out
}

// Data is the event whose layer holds the bytes of the version seen as of
// layer i: a metadata-only copy keeps its data in the layer it copied.
func (n *Node) Data(i int) (Event, bool) {
	e, ok := n.At(i)
	if !ok || !e.Present() {
		return e, false
	}
	if e.Change.Kind != inspect.KindMetadataCopyUp {
		return e, true
	}
	for _, lo := range n.Shadowed(i) {
		if lo.Change.Kind != inspect.KindMetadataCopyUp {
			return lo, true
		}
	}
	return e, false
}

func newTree(stack []inspect.StackLayer) *Tree {
	root := &Node{Name: "/"}
	return &Tree{Stack: stack, Root: root, byPath: map[string]*Node{"/": root}}
}

// node is the node of p, made (with its parents) when new.
func (t *Tree) node(p string) *Node {
	if n, ok := t.byPath[p]; ok {
		return n
	}
	dir, name := "/", p[1:]
	if k := strings.LastIndexByte(p, '/'); k > 0 {
		dir, name = p[:k], p[k+1:]
	}
	parent := t.node(dir)
	n := &Node{Name: strings.Clone(name), Parent: parent} // not a slice of the walk's path
	parent.Children = append(parent.Children, n)
	t.byPath[p] = n
	t.Nodes++
	return n
}

// event is layer i's event at p, made when new. A walk reports a dead
// entry before the upper entry that kills it, so either may come first.
func (t *Tree) event(p string, i int) *Event {
	n := t.node(p)
	if k := len(n.Events) - 1; k >= 0 && n.Events[k].Layer == i {
		return &n.Events[k]
	}
	n.Events = append(n.Events, Event{Layer: i})
	return &n.Events[len(n.Events)-1]
}

// add records layer i's walk. Layers come base first.
func (t *Tree) add(i int, w *inspect.LayerWalk) {
	ents := make([]Entry, len(w.Changes))
	for k := range w.Changes {
		c := &w.Changes[k]
		ents[k] = entryOf(c)
		t.event(c.Path, i).Change = &ents[k]
	}
	for _, d := range w.Dead {
		e := t.event(d.Path, i)
		e.Dead, e.By = d.Kind, d.By
	}
}

// done sorts the children and drops the build index.
func (t *Tree) done() {
	for _, n := range t.byPath {
		slices.SortFunc(n.Children, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) })
	}
	t.byPath = nil
}

// Find is the node of the absolute path p, nil when no layer has it.
func (t *Tree) Find(p string) *Node {
	n := t.Root
	for _, name := range strings.Split(strings.Trim(p, "/"), "/") {
		if name == "" {
			continue
		}
		k, ok := slices.BinarySearchFunc(n.Children, name, func(c *Node, name string) int { return strings.Compare(c.Name, name) })
		if !ok {
			return nil
		}
		n = n.Children[k]
	}
	return n
}
