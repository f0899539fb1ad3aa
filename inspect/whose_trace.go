package inspect

import (
	"path"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// whoseTrace says what a stack of layers (top first) shows at rel, with
// respect to its layer k: visible, merged, shadowed, whited out, hidden by
// a parent, or — for a whiteout — deleting. With k < 0 it says only which
// entry the view shows (ViewFrom) or that it has none (ViewAbsent).
//
// The union rules are the walker's (union.go): subdirs opens the lower
// view of each parent dir, down to the first whiteout, non-dir or opaque
// dir; lookup and whoseFirst let the first layer holding a name decide.
// whoseTrace only names the entry that decided. Layer dirs that cannot be
// opened are left out of the stack, as explain does.
func (s *Store) whoseTrace(layers []StackLayer, k int, rel []string) (WhoseView, error) {
	w := &walker{f: s.graph.Format()}
	var opened [][]ldir
	defer func() {
		for _, ds := range opened {
			closeDirs(ds)
		}
	}()
	var roots []ldir
	for i, l := range layers {
		d, err := layerfs.OpenDir(l.Dir)
		if err != nil {
			if i == k {
				return WhoseView{}, err
			}
			continue
		}
		roots = append(roots, ldir{layer: i, d: d})
	}
	opened = append(opened, roots)
	hit := func(layer int, p string, e layerfs.Entry) *WhoseHit {
		l := layers[layer]
		return &WhoseHit{Role: l.Role, Position: l.Position, ChainID: l.ChainID, CacheID: l.CacheID,
			CreatedBy: l.CreatedBy, Path: p, Entry: whoseEntryWord(e)}
	}

	dirs := roots
	for i, name := range rel[:len(rel)-1] {
		next, err := w.subdirs(dirs, name)
		if err != nil {
			return WhoseView{}, err
		}
		opened = append(opened, next)
		lost := k >= 0 && whoseHas(dirs, k) && !whoseHas(next, k)
		if lost || (k < 0 && len(next) == 0) {
			v := WhoseView{Result: ViewHidden}
			if k < 0 {
				v.Result = ViewAbsent
			}
			j, e, ok, err := w.whoseEnder(dirs, next, name)
			if err != nil {
				return v, err
			}
			if ok && j != k {
				v.By = hit(j, "/"+path.Join(rel[:i+1]...), e)
			}
			return v, nil
		}
		dirs = next
	}

	name, p := rel[len(rel)-1], "/"+path.Join(rel...)
	at, e, ok, err := w.whoseFirst(dirs, name)
	if err != nil {
		return WhoseView{}, err
	}
	switch {
	case !ok:
		return WhoseView{Result: ViewAbsent}, nil
	case k < 0 && e.Kind == layerfs.Whiteout:
		return WhoseView{Result: ViewAbsent, By: hit(dirs[at].layer, p, e)}, nil
	case k < 0:
		return WhoseView{Result: ViewFrom, By: hit(dirs[at].layer, p, e)}, nil
	}
	if j := dirs[at].layer; j != k {
		return w.whoseAbove(dirs, k, name, p, e, j, hit, &opened)
	}
	// The layer's own entry decides. Below it: what it shadows, merges
	// with or deletes.
	v := WhoseView{Result: ViewVisible}
	if e.Kind == layerfs.Whiteout {
		v.Result = ViewDeletes
	}
	lo, lok, err := w.lookup(dirs[at+1:], name)
	if err != nil {
		return v, err
	}
	if lok {
		v.Below = hit(lo.lay, p, lo.e)
	}
	return v, nil
}

// whoseAbove says what upper layer j's entry e does to layer k's entry of
// the same name: a whiteout deletes it, a dir over a dir merges with it
// unless something between them ends the view, anything else shadows it.
func (w *walker) whoseAbove(dirs []ldir, k int, name, p string, e layerfs.Entry, j int,
	hit func(int, string, layerfs.Entry) *WhoseHit, opened *[][]ldir) (WhoseView, error) {
	if e.Kind == layerfs.Whiteout {
		return WhoseView{Result: ViewWhitedOut, By: hit(j, p, e)}, nil
	}
	own := false
	for _, ld := range dirs {
		if ld.layer == k {
			oe, ok, err := w.f.Lookup(ld.d, name)
			if err != nil {
				return WhoseView{}, err
			}
			own = ok && oe.Kind != layerfs.Whiteout && oe.Stat.IsDir()
		}
	}
	if !own || !e.Stat.IsDir() {
		return WhoseView{Result: ViewShadowed, By: hit(j, p, e)}, nil
	}
	sub, err := w.subdirs(dirs, name)
	if err != nil {
		return WhoseView{}, err
	}
	*opened = append(*opened, sub)
	if whoseHas(sub, k) {
		return WhoseView{Result: ViewMerged, By: hit(j, p, e)}, nil
	}
	j2, e2, ok, err := w.whoseEnder(dirs, sub, name)
	if err != nil || !ok {
		return WhoseView{Result: ViewShadowed, By: hit(j, p, e)}, err
	}
	r := ViewShadowed
	if e2.Kind == layerfs.Whiteout {
		r = ViewWhitedOut
	}
	return WhoseView{Result: r, By: hit(j2, p, e2)}, nil
}

// whoseFirst returns the first of dirs holding an entry named name, a
// whiteout included (bookkeeping files are not entries): the layer whose
// entry the union shows, or whose whiteout deletes the name.
func (w *walker) whoseFirst(dirs []ldir, name string) (int, layerfs.Entry, bool, error) {
	for i, ld := range dirs {
		e, ok, err := w.f.Lookup(ld.d, name)
		if err != nil {
			return 0, e, false, err
		}
		if ok && e.Kind != layerfs.Bookkeeping {
			return i, e, true, nil
		}
	}
	return 0, layerfs.Entry{}, false, nil
}

// whoseEnder names the entry that ended next = subdirs(dirs, name): the
// opaque dir that is next's last layer, or else the first layer after it
// holding name, which is then a whiteout or not a dir. ok is false when
// the view simply ran out of layers.
func (w *walker) whoseEnder(dirs, next []ldir, name string) (layer int, e layerfs.Entry, ok bool, err error) {
	start := 0
	if len(next) > 0 {
		last := next[len(next)-1].layer
		for i, ld := range dirs {
			if ld.layer != last {
				continue
			}
			le, lok, err := w.f.Lookup(ld.d, name)
			if err != nil {
				return 0, le, false, err
			}
			if lok && le.Opaque {
				return last, le, true, nil
			}
			start = i + 1
		}
	}
	at, fe, ok, err := w.whoseFirst(dirs[start:], name)
	if !ok || err != nil {
		return 0, fe, false, err
	}
	return dirs[start+at].layer, fe, true, nil
}

func whoseHas(dirs []ldir, layer int) bool {
	for _, d := range dirs {
		if d.layer == layer {
			return true
		}
	}
	return false
}
