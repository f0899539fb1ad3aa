package inspect

import (
	"bytes"
	"io"
	"path"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// visit classifies one upper entry and, for a directory, returns the frame
// to walk next.
func (w *walker) visit(fr *frame, e layerfs.Entry) (*frame, error) {
	if e.Kind == layerfs.Bookkeeping {
		return nil, nil
	}
	p := join(fr.rel, e.Name)
	w.countSize(e.Stat)
	view, vok, err := w.lookup(fr.view, e.Name)
	if err != nil {
		return nil, err
	}
	old, ook := view, vok
	if !sameDirs(fr.view, fr.old) {
		if old, ook, err = w.lookup(fr.old, e.Name); err != nil {
			return nil, err
		}
	}
	if w.dead != nil && vok {
		w.kill(fr, e, p, view)
	}
	c := newChange(p, e)
	if c.Type == string(layerfs.TypeSymlink) && !w.diffOnly {
		c.LinkTarget, _ = fr.upper.Readlink(e.RawName)
	}
	if e.Kind == layerfs.Whiteout {
		c.Kind, c.Marker = KindWhiteout, e.XattrForm
		if vok {
			c.Type = string(view.e.Type())
			c.Origin = w.origin(view.lay, "")
		} else {
			c.Note = "deletes nothing: no lower layer has this path"
		}
		if !fr.dockerAdded && ook {
			c.DockerDiff = "D"
		}
		w.add(c, e.Stat)
		return nil, nil
	}
	switch {
	case fr.dockerAdded || !ook:
		c.DockerDiff = "A"
	case statDifferent(old.e.Stat, e.Stat) || !bytes.Equal(old.e.Capability, e.Capability):
		c.DockerDiff = "C"
	}
	if vok {
		c.Origin = w.origin(view.lay, "")
		if !w.diffOnly {
			c.Changed = w.differences(fr.view[view.at].d, view.e, fr.upper, e)
		}
		lo := view.e.Stat
		c.Lower = &Meta{Type: string(lo.Type()), Mode: perm(lo), UID: lo.UID, GID: lo.GID, Size: lo.Size, Mtime: lo.ModTime().UTC()}
	}
	switch {
	case e.Redirect != "":
		c.Kind, c.Redirect = KindRedirect, e.Redirect
		src := redirectPath(fr.rel, e.Redirect)
		c.Origin = nil
		if w.diffOnly {
			break
		}
		if dirs, err := w.resolveDirs(src); err == nil && len(dirs) > 0 {
			c.Origin = w.origin(dirs[0].layer, src)
			closeDirs(dirs)
		}
	case !vok:
		c.Kind = KindAdded
		if ook {
			c.Note = "replaces an entry of the same name that the opaque parent dir hides"
		}
	case e.Metacopy:
		c.Kind = KindMetadataCopyUp
	case e.Opaque && view.e.Stat.IsDir():
		c.Kind = KindOpaque
	case len(c.Changed) > 0:
		c.Kind = KindModified
	default:
		c.Kind = KindCopiedUp
	}
	if e.Opaque {
		c.Marker = e.XattrForm
	}
	idx := w.add(c, e.Stat)
	if !e.Stat.IsDir() {
		return nil, nil
	}
	return w.enter(fr, e, idx, view, vok, old, ook)
}

// enter opens the upper dir of e and the lower views below it.
func (w *walker) enter(fr *frame, e layerfs.Entry, idx int, view lowerHit, vok bool, old lowerHit, ook bool) (*frame, error) {
	c := w.list.at(idx)
	added := c.DockerDiff == "A" || (ook && !old.e.Stat.IsDir())
	sub, ents, err := w.readSub(fr, fr.next-1, e.RawName, w.diffOnly && added)
	if err != nil {
		return nil, err
	}
	child := &frame{rel: c.Path, upper: sub, entries: ents, change: idx, dockerAdded: added,
		implied: e.Implied && c.Kind == KindCopiedUp && c.DockerDiff == ""}
	lowerDir := vok && view.e.Stat.IsDir()
	switch {
	case e.Redirect != "":
		child.view, err = w.resolveDirs(redirectPath(fr.rel, e.Redirect))
	case lowerDir && !e.Opaque:
		child.view, err = w.subdirs(fr.view[view.at:], e.Name)
	}
	if err != nil {
		closeFrame(child)
		return nil, err
	}
	if e.Opaque && lowerDir && !w.diffOnly {
		hidden, err := w.subdirs(fr.view[view.at:], e.Name)
		if err == nil {
			names, _, _ := w.children(hidden)
			for _, n := range names {
				c.Hides = append(c.Hides, join(c.Path, n))
			}
			closeDirs(hidden)
		}
	}
	if child.dockerAdded || !ook {
		child.old = nil
	} else if sameDirs(fr.view, fr.old) && !e.Opaque && e.Redirect == "" {
		child.old = child.view
	} else if child.old, err = w.subdirs(fr.old[old.at:], e.Name); err != nil {
		closeFrame(child)
		return nil, err
	}
	if !sameDirs(child.view, child.old) {
		w.viewDelta(child)
	}
	return child, nil
}

// viewDelta adds the docker diff lines for a dir whose merged view does not
// come from the same lower dirs as the old view (opaque and redirected
// dirs): old entries no longer visible are D; entries visible only through
// the new view are A (with everything below them).
func (w *walker) viewDelta(fr *frame) {
	upper := map[string]bool{}
	for _, e := range fr.entries {
		upper[e.Name] = true
	}
	viewNames, _, err := w.children(fr.view)
	if err != nil {
		w.finds = append(w.finds, Finding{Kind: "unreadable_entry", Path: fr.upper.Path, Message: err.Error()})
		return
	}
	now := map[string]bool{}
	for _, n := range viewNames {
		now[n] = true
	}
	if !fr.dockerAdded {
		oldNames, _, err := w.children(fr.old)
		if err != nil {
			w.finds = append(w.finds, Finding{Kind: "unreadable_entry", Path: fr.upper.Path, Message: err.Error()})
		}
		for _, n := range oldNames {
			if !upper[n] && !now[n] {
				w.extra = append(w.extra, DiffLine{Kind: "D", Path: join(fr.rel, n)})
				fr.changed = true
			}
			now[n] = false // present in both: unchanged unless the upper dir has it
		}
	}
	for _, n := range viewNames {
		if now[n] && !upper[n] {
			w.addTree(fr.view, fr.rel, n)
			fr.changed = true
		}
	}
}

// addTree lists name below dirs, and everything under it, as A lines.
func (w *walker) addTree(dirs []ldir, rel, name string) {
	p := join(rel, name)
	w.extra = append(w.extra, DiffLine{Kind: "A", Path: p})
	sub, err := w.subdirs(dirs, name)
	if err != nil || len(sub) == 0 {
		return
	}
	w.tree(sub, p, func(q string, _ lowerHit) { w.extra = append(w.extra, DiffLine{Kind: "A", Path: q}) })
}

// resolveDirs opens the lower view of an absolute path, from the lower roots.
func (w *walker) resolveDirs(p string) ([]ldir, error) {
	dirs := w.roots
	owned := false
	for _, name := range strings.Split(strings.Trim(p, "/"), "/") {
		if name == "" {
			continue
		}
		next, err := w.subdirs(dirs, name)
		if owned {
			closeDirs(dirs)
		}
		if err != nil {
			return nil, err
		}
		dirs, owned = next, true
	}
	if !owned {
		return nil, nil
	}
	return dirs, nil
}

// redirectPath turns an overlay.redirect value into an absolute path: an
// absolute value is from the layer root, a relative one is a name in the
// same parent dir (overlayfs.rst "Redirect dir").
func redirectPath(parent, redirect string) string {
	if strings.HasPrefix(redirect, "/") {
		return path.Clean(redirect)
	}
	return path.Clean(join(parent, redirect))
}

// differences says what differs between a lower entry and the upper entry
// that shadows it. Regular files of equal size are compared byte by byte.
func (w *walker) differences(ld *layerfs.Dir, lo layerfs.Entry, ud *layerfs.Dir, up layerfs.Entry) []string {
	o, n := lo.Stat, up.Stat
	var out []string
	if o.Type() != n.Type() {
		return []string{"type"}
	}
	if o.Perm() != n.Perm() {
		out = append(out, "mode")
	}
	if o.UID != n.UID || o.GID != n.GID {
		out = append(out, "owner")
	}
	if o.Rdev != n.Rdev {
		out = append(out, "rdev")
	}
	if !bytes.Equal(lo.Capability, up.Capability) {
		out = append(out, "capability")
	}
	if n.IsDir() {
		return out
	}
	if n.Type() == layerfs.TypeFile && !up.Metacopy {
		if o.Size != n.Size {
			out = append(out, "content", "size")
		} else if same, err := sameContent(ld, lo, ud, up); err != nil {
			w.finds = append(w.finds, Finding{Kind: "unreadable_entry", Path: ud.Path + "/" + up.RawName, Message: err.Error()})
		} else if !same {
			out = append(out, "content")
		}
	} else if n.Type() == layerfs.TypeSymlink {
		lt, _ := ld.Readlink(lo.RawName)
		ut, _ := ud.Readlink(up.RawName)
		if lt != ut {
			out = append(out, "content")
		}
		if o.Size != n.Size {
			out = append(out, "size")
		}
	}
	if !sameFsTime(o, n) {
		out = append(out, "mtime")
	}
	return out
}

func sameContent(ld *layerfs.Dir, lo layerfs.Entry, ud *layerfs.Dir, up layerfs.Entry) (bool, error) {
	a, err := ld.OpenFile(lo.RawName, lo.Stat)
	if err != nil {
		return false, err
	}
	defer a.Close()
	b, err := ud.OpenFile(up.RawName, up.Stat)
	if err != nil {
		return false, err
	}
	defer b.Close()
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(a, ba)
		nb, eb := io.ReadFull(b, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == io.EOF || eb == io.ErrUnexpectedEOF, nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}

func newChange(p string, e layerfs.Entry) Change {
	st := e.Stat
	return Change{
		Path: p, Type: string(st.Type()), Size: st.Size, DiskUsage: st.Blocks * 512,
		Mode: perm(st), UID: st.UID, GID: st.GID, Mtime: st.ModTime().UTC(), Ctime: st.ChangeTime().UTC(),
	}
}

// kill reports (w.dead) the lower entries the upper entry e at p makes
// invisible: the lower entry at p itself when e is a whiteout or takes its
// place (a dir over a dir merges with it instead), and the lower view below
// p when e is a whiteout, a non-dir, or an opaque dir. A metadata-only copy
// still uses the lower data, a redirected dir moves its lower view: neither
// kills.
func (w *walker) kill(fr *frame, e layerfs.Entry, p string, view lowerHit) {
	lowerDir := view.e.Stat.IsDir()
	switch {
	case e.Metacopy || e.Redirect != "":
	case e.Kind == layerfs.Whiteout:
		w.dead(DeadEntry{Layer: view.lay, Path: p, Stat: view.e.Stat, Kind: DeadDeleted, By: p})
		if lowerDir {
			w.killBelow(fr, view, p, DeadDeleted)
		}
	case !e.Stat.IsDir() || !lowerDir:
		w.dead(DeadEntry{Layer: view.lay, Path: p, Stat: view.e.Stat, Kind: DeadOverwritten, By: p})
		if lowerDir {
			w.killBelow(fr, view, p, DeadReplaced)
		}
	case e.Opaque:
		w.killBelow(fr, view, p, DeadHidden)
	}
}

// killBelow reports every entry of the lower view below the dir p.
func (w *walker) killBelow(fr *frame, view lowerHit, p string, kind DeadKind) {
	sub, err := w.subdirs(fr.view[view.at:], view.e.Name)
	if err == nil {
		err = w.tree(sub, p, func(q string, h lowerHit) {
			w.dead(DeadEntry{Layer: h.lay, Path: q, Stat: h.e.Stat, Kind: kind, By: p})
		})
	}
	if err != nil {
		w.finds = append(w.finds, Finding{Kind: "unreadable_entry", Path: p, Message: "the lower entries below it: " + err.Error()})
	}
}

// drop unlists the last change, an implied dir's (frame.implied), and
// uncounts it.
func (w *walker) drop() {
	c := w.list.at(w.list.len() - 1)
	if w.counts != nil {
		n := w.counts[c.Kind]
		if n.Entries--; n.Entries == 0 {
			delete(w.counts, c.Kind)
		} else {
			w.counts[c.Kind] = n
		}
	}
	w.list.pop()
}

// add lists c (of an upper entry with stat st) and counts it by kind when
// the walk counts (w.counts).
func (w *walker) add(c Change, st layerfs.Stat) int {
	if w.counts != nil {
		n := EntryCount{Entries: 1}
		if c.Kind != KindWhiteout && !st.IsDir() {
			k := [2]uint64{st.Dev, st.Ino}
			if st.Nlink <= 1 || !w.counted[k] {
				n.Bytes = st.Size
				if st.Nlink > 1 {
					w.counted[k] = true
				}
			}
		}
		w.counts[c.Kind] = w.counts[c.Kind].Plus(n)
	}
	return w.list.add(c)
}
