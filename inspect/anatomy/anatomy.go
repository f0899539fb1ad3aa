// Package anatomy says what each layer of an image or a container adds,
// changes and deletes, and which bytes of its layers no container of it
// can ever see: files deleted by a later layer, every older copy of a file
// a later layer rewrites (not the live one), entries an opaque dir of a
// later layer hides. Each layer is walked once against the layers below it
// by the store's union rules (inspect.Store.WalkLayer), so the numbers hold
// on every store dlayer reads.
package anatomy

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// Subject is what is dissected.
type Subject string

// The subjects.
const (
	SubjectImage     Subject = "image"
	SubjectContainer Subject = "container"
)

// Report is the anatomy of one image or container.
type Report struct {
	Subject Subject `json:"subject"`
	// ID is the image's or container's ID, Name its first tag or name.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Layers are the stack's layers, base first (for a container the
	// init and writable layers last).
	Layers []Layer `json:"layers"`
	Waste  Waste   `json:"waste"`
	// Complete is false when a layer could not be walked whole (see
	// Findings): the numbers are then lower bounds.
	Complete bool              `json:"complete"`
	Findings []inspect.Finding `json:"findings"`
	// Tree is every path of the stack with what each layer did to it,
	// when asked for (Options.Tree).
	Tree *Tree `json:"-"`
}

// Count is a number of entries and their bytes (Docker's size: st_size
// of the non-dirs, each inode once).
type Count = inspect.EntryCount

// Layer is one layer's anatomy.
type Layer struct {
	// Position numbers the stack from the base: 1 = base.
	Position int               `json:"position"`
	Role     inspect.LayerRole `json:"role"`
	ChainID  digest.Digest     `json:"chain_id,omitempty"`
	CacheID  string            `json:"cache_id"`
	Dir      string            `json:"dir"`
	// CreatedBy is the instruction that made it (image layers).
	CreatedBy string `json:"created_by,omitempty"`
	// Size is the layer dir's size (st_size of non-dirs, each inode once).
	Size int64 `json:"size"`
	// Added: entries no layer below has; Changed: entries that shadow
	// one below (rewritten, or copied with new metadata: modified,
	// copied_up, opaque dirs…); Deleted: whiteouts, and Removed what
	// they, the opaque dirs and the replaced dirs of this layer make
	// invisible below (Removed.Bytes: what stays on disk for nothing).
	Added   Count `json:"added"`
	Changed Count `json:"changed"`
	Deleted Count `json:"deleted"`
	Removed Count `json:"removed"`
	// Wasted is what of this layer's own bytes later layers make
	// invisible.
	Wasted Count `json:"wasted"`
	// Entries are the layer's entries, when asked for (Options.Entries).
	Entries []inspect.Change `json:"entries,omitempty"`
}

// Waste is the bytes of the stack's layers no container of it can see.
type Waste struct {
	Count
	// Groups are the waste by the layer holding it, the layer that made
	// it invisible, and how: biggest first.
	Groups []Group `json:"groups"`
	// Paths are the invisible files, biggest first (at most
	// Options.MaxPaths; PathsLeft the rest).
	Paths     []Path `json:"paths"`
	PathsLeft int    `json:"paths_left"`
}

// Group is the waste one layer leaves in another.
type Group struct {
	// Layer holds the bytes; By made them invisible (positions).
	Layer int              `json:"layer"`
	By    int              `json:"by"`
	Kind  inspect.DeadKind `json:"kind"`
	Count
	// Paths are the biggest few of its files.
	Paths []string `json:"paths"`
}

// Path is one invisible file.
type Path struct {
	Path  string           `json:"path"`
	Layer int              `json:"layer"`
	By    int              `json:"by"`
	ByAt  string           `json:"by_path"`
	Kind  inspect.DeadKind `json:"kind"`
	Bytes int64            `json:"bytes"`
}

// Options are what to keep beyond the counts.
type Options struct {
	// Entries keeps the entries of the layer at this position (0: none;
	// -1: every layer's).
	Entries int
	// MaxPaths caps Waste.Paths (0: 1000; -1: none kept).
	MaxPaths int
	// Memo, when set, keeps each image layer's walk for the next call
	// (images --waste: a layer several images share is walked once).
	Memo *Memo
	// Tree keeps every layer's entries and dead entries as one tree of
	// paths (Report.Tree), from the same walks.
	Tree bool
}

// Memo keeps image layers' walks by chain ID: a layer's walk against the
// layers below it depends on its chain alone, so it serves every image
// whose stack holds the chain. Only what dissect needs is kept: the
// counts and the dead entries (their Layer counted from the walked one).
type Memo struct {
	byChain map[digest.Digest]*inspect.LayerWalk
}

// NewMemo is an empty memo.
func NewMemo() *Memo { return &Memo{byChain: map[digest.Digest]*inspect.LayerWalk{}} }

// walk is s.WalkLayer(stack, i), from the memo when it has the layer.
func (m *Memo) walk(s *inspect.Store, stack []inspect.StackLayer, i int) (*inspect.LayerWalk, error) {
	chain := stack[i].ChainID
	if m == nil || chain == "" || stack[i].Role != inspect.RoleImage {
		return s.WalkLayer(stack, i)
	}
	kept, ok := m.byChain[chain]
	if !ok {
		w, err := s.WalkLayer(stack, i)
		if err != nil {
			return nil, err
		}
		kept = &inspect.LayerWalk{Counts: w.Counts, Size: w.Size, DiskUsage: w.DiskUsage, Findings: w.Findings, Dead: make([]inspect.DeadEntry, len(w.Dead))}
		for k, d := range w.Dead {
			d.Layer -= i
			kept.Dead[k] = d
		}
		m.byChain[chain] = kept
	}
	w := *kept
	w.Dead = make([]inspect.DeadEntry, len(kept.Dead))
	for k, d := range kept.Dead {
		d.Layer += i
		w.Dead[k] = d
	}
	return &w, nil
}

// maxGroupPaths is how many paths a Group names.
const maxGroupPaths = 5

// Image dissects an image.
func Image(s *inspect.Store, img *inspect.Image, o Options) (*Report, error) {
	stack, finds := s.ImageStack(img.ID)
	r := &Report{Subject: SubjectImage, ID: string(img.ID), Name: inspect.ShortID(string(img.ID)), Findings: finds}
	if len(img.Tags) > 0 {
		r.Name = img.Tags[0]
	}
	return dissect(s, stack, r, o)
}

// Container dissects a container's stack as x (its explanation, or
// Store.Stack) has it: image layers, init layer, writable layer.
func Container(s *inspect.Store, x *inspect.Explanation, o Options) (*Report, error) {
	r := &Report{Subject: SubjectContainer, ID: x.Container.ID, Name: x.Container.Name}
	return dissect(s, x.Layers, r, o)
}

func dissect(s *inspect.Store, stack []inspect.StackLayer, r *Report, o Options) (*Report, error) {
	if o.MaxPaths == 0 {
		o.MaxPaths = 1000
	}
	r.Complete = true
	r.Layers = make([]Layer, len(stack))
	pos := func(i int) int { return len(stack) - i } // stack index (top first) → position
	for i, l := range stack {
		r.Layers[len(stack)-1-i] = Layer{Position: pos(i), Role: l.Role, ChainID: l.ChainID, CacheID: l.CacheID, Dir: l.Dir, CreatedBy: l.CreatedBy}
	}
	var tally inspect.DeadTally
	type groupKey struct {
		layer, by int
		kind      inspect.DeadKind
	}
	groups := map[groupKey]*Group{}
	var paths []Path
	memo := o.Memo
	if o.Entries != 0 || o.Tree {
		memo = nil // the memo keeps no entries
	}
	if o.Tree {
		r.Tree = newTree(stack)
		defer r.Tree.done()
	}
	// base first: an inode with several names dies with its last name,
	// in the layer that removes that name
	for i := len(stack) - 1; i >= 0; i-- {
		sl := stack[i]
		if sl.Dir == "" {
			r.Complete = false
			r.Findings = append(r.Findings, inspect.Finding{Kind: "layer_dir_missing", Message: fmt.Sprintf("layer %d has no dir: not walked", pos(i))})
			continue
		}
		w, err := memo.walk(s, stack, i)
		if err != nil {
			r.Complete = false
			r.Findings = append(r.Findings, inspect.Finding{Kind: "layer_unreadable", Path: sl.Dir, Message: err.Error()})
			continue
		}
		if len(w.Findings) > 0 {
			r.Complete = false
			r.Findings = append(r.Findings, w.Findings...)
		}
		l := &r.Layers[len(stack)-1-i]
		l.Size = w.Size
		for k, n := range w.Counts {
			switch k {
			case inspect.KindAdded:
				l.Added = l.Added.Plus(n)
			case inspect.KindWhiteout:
				l.Deleted = l.Deleted.Plus(n)
			default:
				l.Changed = l.Changed.Plus(n)
			}
		}
		if o.Entries == -1 || o.Entries == l.Position {
			l.Entries = w.Changes
		}
		if r.Tree != nil {
			r.Tree.add(i, w)
		}
		for _, d := range w.Dead {
			n, live := tally.Add(d)
			l.Removed = l.Removed.Plus(n)
			if d.Stat.IsDir() || live {
				continue
			}
			owner := &r.Layers[len(stack)-1-d.Layer]
			owner.Wasted = owner.Wasted.Plus(n)
			r.Waste.Count = r.Waste.Count.Plus(n)
			gk := groupKey{pos(d.Layer), pos(i), d.Kind}
			g := groups[gk]
			if g == nil {
				g = &Group{Layer: gk.layer, By: gk.by, Kind: gk.kind}
				groups[gk] = g
			}
			g.Count = g.Count.Plus(n)
			paths = append(paths, Path{Path: d.Path, Layer: gk.layer, By: gk.by, ByAt: d.By, Kind: d.Kind, Bytes: n.Bytes})
		}
	}
	byBytes := func(a, b Path) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Layer, b.Layer))
	}
	slices.SortFunc(paths, byBytes)
	for _, g := range groups {
		for _, p := range paths {
			if len(g.Paths) == maxGroupPaths {
				break
			}
			if p.Layer == g.Layer && p.By == g.By && p.Kind == g.Kind {
				g.Paths = append(g.Paths, p.Path)
			}
		}
		r.Waste.Groups = append(r.Waste.Groups, *g)
	}
	slices.SortFunc(r.Waste.Groups, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.By, b.By), cmp.Compare(a.Kind, b.Kind))
	})
	if o.MaxPaths < 0 {
		o.MaxPaths = 0
	}
	if len(paths) > o.MaxPaths {
		r.Waste.PathsLeft = len(paths) - o.MaxPaths
		paths = paths[:o.MaxPaths]
	}
	r.Waste.Paths = paths
	if r.Waste.Groups == nil {
		r.Waste.Groups = []Group{}
	}
	if r.Waste.Paths == nil {
		r.Waste.Paths = []Path{}
	}
	if r.Findings == nil {
		r.Findings = []inspect.Finding{}
	}
	return r, nil
}
