package whose

import (
	"path"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

// dirs are the open dirs of a union view, topmost first.
type dirs = []inspect.UnionDir

// tracer follows one path down a stack of layers.
type tracer struct {
	u      inspect.Union
	layers []inspect.StackLayer
	opened []dirs
}

// trace says what a stack of layers (top first) shows at rel, with
// respect to its layer k: visible, merged, shadowed, whited out, hidden by
// a parent, or — for a whiteout — deleting. With k < 0 it says only which
// entry the view shows (ViewFrom) or that it has none (ViewAbsent).
//
// The union rules are the core's (inspect.Union, the walker's rules):
// Sub opens the lower view of each parent dir, down to the first
// whiteout, non-dir or opaque dir; Lookup and first let the first layer
// holding a name decide. trace only names the entry that decided. Layer
// dirs that cannot be opened are left out of the stack, as explain does.
func (q *query) trace(layers []inspect.StackLayer, k int, rel []string) (View, error) {
	t := &tracer{u: q.s.Union(), layers: layers}
	defer func() {
		for _, ds := range t.opened {
			inspect.CloseUnion(ds)
		}
	}()
	var roots dirs
	for i, l := range layers {
		d, err := q.s.FS().OpenDir(l.Dir)
		if err != nil {
			if i == k {
				return View{}, err
			}
			continue
		}
		roots = append(roots, inspect.UnionDir{Layer: i, Dir: d})
	}
	t.opened = append(t.opened, roots)

	cur := roots
	for i, name := range rel[:len(rel)-1] {
		next, err := t.sub(cur, name)
		if err != nil {
			return View{}, err
		}
		lost := k >= 0 && has(cur, k) && !has(next, k)
		if lost || (k < 0 && len(next) == 0) {
			v := View{Result: ViewHidden}
			if k < 0 {
				v.Result = ViewAbsent
			}
			j, e, ok, err := t.ender(cur, next, name)
			if err != nil {
				return v, err
			}
			if ok && j != k {
				v.By = t.hit(j, "/"+path.Join(rel[:i+1]...), e)
			}
			return v, nil
		}
		cur = next
	}

	name, p := rel[len(rel)-1], "/"+path.Join(rel...)
	at, e, ok, err := t.first(cur, name)
	if err != nil {
		return View{}, err
	}
	switch {
	case !ok:
		return View{Result: ViewAbsent}, nil
	case k < 0 && e.Kind == layerfs.Whiteout:
		return View{Result: ViewAbsent, By: t.hit(cur[at].Layer, p, e)}, nil
	case k < 0:
		return View{Result: ViewFrom, By: t.hit(cur[at].Layer, p, e)}, nil
	}
	if j := cur[at].Layer; j != k {
		return t.above(cur, k, name, p, e, j)
	}
	// The layer's own entry decides. Below it: what it shadows, merges
	// with or deletes.
	v := View{Result: ViewVisible}
	if e.Kind == layerfs.Whiteout {
		v.Result = ViewDeletes
	}
	lay, le, lok, err := t.u.Lookup(cur[at+1:], name)
	if err != nil {
		return v, err
	}
	if lok {
		v.Below = t.hit(lay, p, le)
	}
	return v, nil
}

// hit is the entry e of layer at path p.
func (t *tracer) hit(layer int, p string, e layerfs.Entry) *Hit {
	l := t.layers[layer]
	return &Hit{Role: Role(l.Role), Position: l.Position, ChainID: l.ChainID, CacheID: l.CacheID,
		CreatedBy: l.CreatedBy, Path: p, Entry: entryWord(e)}
}

// sub opens the lower view of dir name below ds, to be closed with the
// tracer.
func (t *tracer) sub(ds dirs, name string) (dirs, error) {
	next, err := t.u.Sub(ds, name)
	if err != nil {
		return nil, err
	}
	t.opened = append(t.opened, next)
	return next, nil
}

// above says what upper layer j's entry e does to layer k's entry of the
// same name: a whiteout deletes it, a dir over a dir merges with it
// unless something between them ends the view, anything else shadows it.
func (t *tracer) above(ds dirs, k int, name, p string, e layerfs.Entry, j int) (View, error) {
	if e.Kind == layerfs.Whiteout {
		return View{Result: ViewWhitedOut, By: t.hit(j, p, e)}, nil
	}
	own := false
	for _, ld := range ds {
		if ld.Layer == k {
			oe, ok, err := t.u.Format().Lookup(ld.Dir, name)
			if err != nil {
				return View{}, err
			}
			own = ok && oe.Kind != layerfs.Whiteout && oe.Stat.IsDir()
		}
	}
	if !own || !e.Stat.IsDir() {
		return View{Result: ViewShadowed, By: t.hit(j, p, e)}, nil
	}
	next, err := t.sub(ds, name)
	if err != nil {
		return View{}, err
	}
	if has(next, k) {
		return View{Result: ViewMerged, By: t.hit(j, p, e)}, nil
	}
	j2, e2, ok, err := t.ender(ds, next, name)
	if err != nil || !ok {
		return View{Result: ViewShadowed, By: t.hit(j, p, e)}, err
	}
	r := ViewShadowed
	if e2.Kind == layerfs.Whiteout {
		r = ViewWhitedOut
	}
	return View{Result: r, By: t.hit(j2, p, e2)}, nil
}

// first returns the index in ds of the first dir holding an entry named
// name, a whiteout included (bookkeeping files are not entries): the
// layer whose entry the union shows, or whose whiteout deletes the name.
func (t *tracer) first(ds dirs, name string) (int, layerfs.Entry, bool, error) {
	for i, ld := range ds {
		e, ok, err := t.u.Format().Lookup(ld.Dir, name)
		if err != nil {
			return 0, e, false, err
		}
		if ok && e.Kind != layerfs.Bookkeeping {
			return i, e, true, nil
		}
	}
	return 0, layerfs.Entry{}, false, nil
}

// ender names the entry that ended next = Sub(ds, name): the opaque dir
// that is next's last layer, or else the first layer after it holding
// name, which is then a whiteout or not a dir. ok is false when the view
// simply ran out of layers.
func (t *tracer) ender(ds, next dirs, name string) (layer int, e layerfs.Entry, ok bool, err error) {
	start := 0
	if len(next) > 0 {
		last := next[len(next)-1].Layer
		for i, ld := range ds {
			if ld.Layer != last {
				continue
			}
			le, lok, err := t.u.Format().Lookup(ld.Dir, name)
			if err != nil {
				return 0, le, false, err
			}
			if lok && le.Opaque {
				return last, le, true, nil
			}
			start = i + 1
		}
	}
	at, fe, ok, err := t.first(ds[start:], name)
	if !ok || err != nil {
		return 0, fe, false, err
	}
	return ds[start+at].Layer, fe, true, nil
}

// has reports whether ds holds a dir of layer.
func has(ds dirs, layer int) bool {
	for _, d := range ds {
		if d.Layer == layer {
			return true
		}
	}
	return false
}
