package inspect

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// WhoseEntry is what one layer holds at a path.
type WhoseEntry struct {
	// Path is the path inside the layer, as the container sees it.
	Path string `json:"path"`
	// Exists is false when the layer holds nothing there; Note says why.
	Exists bool `json:"exists"`
	// Kind is what the entry means to the union: "plain", "whiteout"
	// (deletes the path from the layers below), "opaque_dir" (hides
	// everything the layers below have in it), "redirect_dir" (a renamed
	// dir), "metacopy" (metadata-only copy: the data is below) or
	// "bookkeeping" (the driver's own file).
	Kind string `json:"kind,omitempty"`
	// Type is the file type on disk.
	Type string `json:"type,omitempty"`
	// Deletes is, for a whiteout, the path it deletes (on aufs the
	// whiteout ".wh.<name>" deletes <name>).
	Deletes string `json:"deletes,omitempty"`
	// Marker names how a whiteout or opaque dir is stored ("char device
	// 0/0", "trusted.overlay.opaque"); Redirect is a renamed dir's target.
	Marker   string `json:"marker,omitempty"`
	Redirect string `json:"redirect,omitempty"`
	Mode     string `json:"mode,omitempty"`
	UID      uint32 `json:"uid"`
	GID      uint32 `json:"gid"`
	Size     int64  `json:"size"`
	// Nlink is the number of names of the inode.
	Nlink uint64    `json:"nlink,omitempty"`
	Mtime time.Time `json:"mtime,omitzero"`
	// LinkTarget is a symlink's target, as text.
	LinkTarget string `json:"link_target,omitempty"`
	Note       string `json:"note,omitempty"`
}

// The results of a view: what a container or image sees at the path,
// with respect to the layer asked about.
const (
	// ViewVisible: the layer's entry is what the view shows.
	ViewVisible = "visible"
	// ViewMerged: a dir of the layer, under a dir of an upper layer: the
	// view shows the upper dir's metadata and both dirs' entries.
	ViewMerged = "merged"
	// ViewShadowed: an upper layer has its own entry at the path.
	ViewShadowed = "shadowed"
	// ViewWhitedOut: an upper layer deletes the path (a whiteout).
	ViewWhitedOut = "whited_out"
	// ViewHidden: an upper layer deletes or replaces a parent dir, or
	// makes it opaque: nothing below it from this layer is visible.
	ViewHidden = "hidden"
	// ViewDeletes: the layer's entry is a whiteout, in effect: the view
	// has nothing at the path.
	ViewDeletes = "deletes"
	// ViewFrom: the layer has nothing at the path (or the path is in a
	// mount point); the view shows By's entry.
	ViewFrom = "from"
	// ViewAbsent: the view has nothing at the path.
	ViewAbsent = "absent"
)

// WhoseView is what one container or image sees at a path.
type WhoseView struct {
	// Of is "container" or "image".
	Of string `json:"of"`
	// ID, Name (a container's name, an image's first tag) and State (a
	// container's) say whose view it is.
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state,omitempty"`
	// Role and Position are where the layer asked about sits in this
	// stack ("rw", "init", or "image" with 1 = base, of Layers image
	// layers); Role is empty for a mount point's view.
	Role     string `json:"role,omitempty"`
	Position int    `json:"position,omitempty"`
	Layers   int    `json:"layers"`
	// Result is one of the View* constants.
	Result string `json:"result"`
	// By is the entry that decides when it is not the asked layer's: the
	// upper entry that shadows, whites out or hides it, or the entry the
	// view shows instead.
	By *WhoseHit `json:"by,omitempty"`
	// Below is the lower entry the asked layer's entry shadows, merges
	// with or deletes; nil when no lower layer has the path.
	Below *WhoseHit `json:"below,omitempty"`
}

// WhoseHit is an entry of one layer of a stack.
type WhoseHit struct {
	Role      string        `json:"role"`
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
func (q *whoseQuery) layerEntry(id string, rel []string) {
	a := q.a
	e, err := q.s.whoseEntry(q.s.whoseContentDir(id), rel)
	if err != nil {
		a.Findings = append(a.Findings, Finding{Kind: "unreadable", Path: a.Path, Message: err.Error()})
	}
	a.Entry = e
	if e != nil && e.Kind == "bookkeeping" {
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
		v, err := q.s.whoseTrace(st.layers, own, rel)
		if err != nil {
			a.Findings = append(a.Findings, Finding{Kind: "unreadable", Path: a.Path, Message: fmt.Sprintf("%s %s: %v", st.view.Of, st.view.Name, err)})
			continue
		}
		v.Of, v.ID, v.Name, v.State = st.view.Of, st.view.ID, st.view.Name, st.view.State
		v.Role, v.Position, v.Layers = st.layers[k].Role, st.layers[k].Position, st.view.Layers
		a.Views = append(a.Views, v)
	}
}

// mergedEntry says where a path below a container's mount point comes
// from in its layers.
func (q *whoseQuery) mergedEntry(rel []string) {
	a := q.a
	if a.Owner.Kind != OwnerRWLayer {
		return
	}
	if !a.Exists {
		a.Notes = append(a.Notes, "merged/ has content only while the container is mounted (running); the answer comes from its layers")
	}
	for _, st := range q.stacks() {
		if st.view.Of != "container" || st.view.ID != a.Owner.Container.ID {
			continue
		}
		v, err := q.s.whoseTrace(st.layers, -1, rel)
		if err != nil {
			a.Findings = append(a.Findings, Finding{Kind: "unreadable", Path: a.Path, Message: err.Error()})
			return
		}
		v.Of, v.ID, v.Name, v.State, v.Layers = st.view.Of, st.view.ID, st.view.Name, st.view.State, st.view.Layers
		a.Views = append(a.Views, v)
	}
}

// whoseStack is a layer stack, top first, and whose view it is.
type whoseStack struct {
	view   WhoseView
	layers []StackLayer
}

// stacks returns the stacks that hold the owner's layer dir: for an image
// layer, every container and image using it; for an rw or init layer,
// its container's.
func (q *whoseQuery) stacks() []whoseStack {
	a, s, x := q.a, q.s, q.index()
	images := map[digest.Digest][]StackLayer{}
	imageStack := func(id digest.Digest) []StackLayer {
		if st, ok := images[id]; ok {
			return st
		}
		ex := &Explanation{}
		st := s.imageLayers(Container{ImageID: id}, ex)
		a.Findings = append(a.Findings, ex.Findings...)
		images[id] = st
		return st
	}
	ctrStack := func(id string) (whoseStack, bool) {
		m, ok := x.mounts[id]
		c := x.container(id)
		if !ok {
			return whoseStack{}, false
		}
		st := []StackLayer{{Role: "rw", CacheID: m.MountID, Dir: s.whoseContentDir(m.MountID)}}
		if m.InitID != "" {
			st = append(st, StackLayer{Role: "init", CacheID: m.InitID, Dir: s.whoseContentDir(m.InitID)})
		}
		if c.ImageID != "" {
			st = append(st, imageStack(c.ImageID)...)
		}
		n := 0
		for _, l := range st {
			if l.Role == "image" {
				n++
			}
		}
		return whoseStack{view: WhoseView{Of: "container", ID: id, Name: c.Name, State: c.State, Layers: n}, layers: st}, true
	}
	var out []whoseStack
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
			out = append(out, whoseStack{view: WhoseView{Of: "image", ID: string(im.ID), Name: name, Layers: im.Layers}, layers: imageStack(im.ID)})
		}
	}
	return out
}

// whoseEntry reads what the layer content dir holds at rel, through
// directory descriptors: a parent that is not a dir in this layer (a
// symlink included) is never followed.
func (s *Store) whoseEntry(dir string, rel []string) (*WhoseEntry, error) {
	out := &WhoseEntry{Path: "/" + path.Join(rel...)}
	d, err := layerfs.OpenDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		out.Note = "the layer's content dir does not exist"
		return out, nil
	}
	if err != nil {
		return out, err
	}
	defer func() { d.Close() }()
	for i, name := range rel[:len(rel)-1] {
		e, ok, err := s.graph.Format().Lookup(d, name)
		p := "/" + path.Join(rel[:i+1]...)
		switch {
		case err != nil:
			return out, err
		case !ok:
			out.Note = p + " is not in this layer"
			return out, nil
		case e.Kind == layerfs.Whiteout:
			out.Note = p + " is a whiteout in this layer: it deletes that dir"
			return out, nil
		case !e.Stat.IsDir():
			out.Note = fmt.Sprintf("%s is a %s in this layer, not a dir (a symlink is never followed)", p, e.Type())
			return out, nil
		}
		sub, err := d.Sub(name)
		if err != nil {
			return out, err
		}
		d.Close()
		d = sub
	}
	name := rel[len(rel)-1]
	e, ok, err := s.graph.Format().Lookup(d, name)
	if err != nil {
		return out, err
	}
	if !ok {
		out.Note = "not in this layer"
		return out, nil
	}
	st := e.Stat
	out.Exists, out.Kind, out.Type = true, whoseEntryKind(e), string(st.Type())
	if e.Kind == layerfs.Whiteout {
		out.Deletes = "/" + path.Join(append(append([]string{}, rel[:len(rel)-1]...), e.Name)...)
	}
	out.Marker, out.Redirect = e.XattrForm, e.Redirect
	out.Mode, out.UID, out.GID, out.Size, out.Nlink, out.Mtime = perm(st), st.UID, st.GID, st.Size, st.Nlink, st.ModTime().UTC()
	if st.Type() == layerfs.TypeSymlink {
		out.LinkTarget, _ = d.Readlink(e.RawName)
	}
	return out, nil
}

func whoseEntryKind(e layerfs.Entry) string {
	switch {
	case e.Kind == layerfs.Whiteout:
		return "whiteout"
	case e.Kind == layerfs.Bookkeeping:
		return "bookkeeping"
	case e.Redirect != "":
		return "redirect_dir"
	case e.Opaque:
		return "opaque_dir"
	case e.Metacopy:
		return "metacopy"
	}
	return "plain"
}

// whoseEntryWord says what an entry is, for a WhoseHit.
func whoseEntryWord(e layerfs.Entry) string {
	switch {
	case e.Kind == layerfs.Whiteout:
		return "whiteout"
	case e.Redirect != "":
		return "renamed dir"
	case e.Opaque:
		return "opaque dir"
	}
	return string(e.Type())
}
