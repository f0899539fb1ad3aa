package whose

import (
	"fmt"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// View is what one container or image sees at a path.
type View struct {
	Of ViewOf `json:"of"`
	// ID, Name (a container's name, an image's first tag) and State (a
	// container's) say whose view it is.
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state,omitempty"`
	// Role and Position are where the layer asked about sits in this
	// stack (RoleRW, RoleInit, or RoleImage with 1 = base, of Layers image
	// layers); Role is empty for a mount point's view.
	Role     Role       `json:"role,omitempty"`
	Position int        `json:"position,omitempty"`
	Layers   int        `json:"layers"`
	Result   ViewResult `json:"result"`
	// By is the entry that decides when it is not the asked layer's: the
	// upper entry that shadows, whites out or hides it, or the entry the
	// view shows instead.
	By *Hit `json:"by,omitempty"`
	// Below is the lower entry the asked layer's entry shadows, merges
	// with or deletes; nil when no lower layer has the path.
	Below *Hit `json:"below,omitempty"`
}

// Hit is an entry of one layer of a stack.
type Hit struct {
	Role      Role          `json:"role"`
	Position  int           `json:"position,omitempty"`
	ChainID   digest.Digest `json:"chain_id,omitempty"`
	CacheID   string        `json:"cache_id,omitempty"`
	CreatedBy string        `json:"created_by,omitempty"`
	// Path is where the entry is: the asked path, or a parent dir of it
	// that the entry hides.
	Path string `json:"path"`
	// Entry says what the layer holds there: "whiteout", "opaque dir",
	// "renamed dir", or a file type.
	Entry string `json:"entry"`
}

// layerEntry reads what layer dir id holds at rel, and the views of every
// container and image using the layer.
func (q *query) layerEntry(id string, rel []string) {
	a := q.a
	e, err := q.readEntry(q.s.Graph().Layout(id).Content, rel)
	if err != nil {
		q.finding("unreadable", a.Path, err.Error())
	}
	a.Entry = e
	if e != nil && e.Kind == EntryBookkeeping {
		a.Notes = append(a.Notes, "the driver's own file: no container or image sees it")
		return
	}
	if e != nil && e.Deletes != "" { // the union name of an aufs .wh. file
		rel = strings.Split(strings.TrimPrefix(e.Deletes, "/"), "/")
	}
	for _, st := range q.stacks() {
		k := -1
		for i, l := range st.layers {
			if l.CacheID == id {
				k = i
			}
		}
		if k < 0 {
			continue
		}
		own := k
		if e == nil || !e.Exists {
			own = -1
		}
		v, err := q.trace(st.layers, own, rel)
		if err != nil {
			q.finding("unreadable", a.Path, fmt.Sprintf("%s %s: %v", st.view.Of, st.view.Name, err))
			continue
		}
		v.Of, v.ID, v.Name, v.State = st.view.Of, st.view.ID, st.view.Name, st.view.State
		v.Role, v.Position, v.Layers = Role(st.layers[k].Role), st.layers[k].Position, st.view.Layers
		a.Views = append(a.Views, v)
	}
}

// mergedEntry says where a path below a container's mount point comes
// from in its layers.
func (q *query) mergedEntry(rel []string) {
	a := q.a
	if a.Owner.Kind != OwnerRWLayer {
		return
	}
	if !a.Exists {
		a.Notes = append(a.Notes, "merged/ has content only while the container is mounted (running); the answer comes from its layers")
	}
	for _, st := range q.stacks() {
		if st.view.Of != OfContainer || st.view.ID != a.Owner.Container.ID {
			continue
		}
		v, err := q.trace(st.layers, -1, rel)
		if err != nil {
			q.finding("unreadable", a.Path, err.Error())
			return
		}
		v.Of, v.ID, v.Name, v.State, v.Layers = st.view.Of, st.view.ID, st.view.Name, st.view.State, st.view.Layers
		a.Views = append(a.Views, v)
	}
}

// stack is a layer stack, top first, and whose view it is.
type stack struct {
	view   View
	layers []inspect.StackLayer
}

// stacks returns the stacks that hold the owner's layer dir: for an image
// layer, every container and image using it; for an rw or init layer,
// its container's.
func (q *query) stacks() []stack {
	a, s, x := q.a, q.s, q.index()
	images := map[digest.Digest][]inspect.StackLayer{}
	imageStack := func(id digest.Digest) []inspect.StackLayer {
		if st, ok := images[id]; ok {
			return st
		}
		st, finds := s.ImageStack(id)
		a.Findings = append(a.Findings, finds...)
		images[id] = st
		return st
	}
	content := func(id string) string { return s.Graph().Layout(id).Content }
	ctrStack := func(id string) (stack, bool) {
		m, ok := x.mounts[id]
		c := x.container(id)
		if !ok {
			return stack{}, false
		}
		st := []inspect.StackLayer{{Role: RoleRW, CacheID: m.MountID, Dir: content(m.MountID)}}
		if m.InitID != "" {
			st = append(st, inspect.StackLayer{Role: RoleInit, CacheID: m.InitID, Dir: content(m.InitID)})
		}
		if c.ImageID != "" {
			st = append(st, imageStack(c.ImageID)...)
		}
		n := 0
		for _, l := range st {
			if Role(l.Role) == RoleImage {
				n++
			}
		}
		return stack{view: View{Of: OfContainer, ID: id, Name: c.Name, State: c.State, Layers: n}, layers: st}, true
	}
	var out []stack
	switch a.Owner.Kind {
	case OwnerRWLayer, OwnerInitLayer:
		if st, ok := ctrStack(a.Owner.Container.ID); ok {
			out = append(out, st)
		}
	case OwnerImageLayer:
		for _, c := range a.Owner.Layer.Containers {
			if st, ok := ctrStack(c.ID); ok {
				out = append(out, st)
			}
		}
		for _, im := range a.Owner.Layer.Images {
			name := ""
			if len(im.Tags) > 0 {
				name = im.Tags[0]
			}
			out = append(out, stack{view: View{Of: OfImage, ID: string(im.ID), Name: name, Layers: im.Layers}, layers: imageStack(im.ID)})
		}
	}
	return out
}
