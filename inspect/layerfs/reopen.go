package layerfs

import (
	"errors"
	"io"
)

// Reopener is an Opener that keeps state between reads (Beneath keeps the
// dirs it last resolved open) and can give a fresh one of the same root:
// a re-read of objects that changed while the store was read must not see
// a dir through a descriptor of the one that was removed.
type Reopener interface {
	Opener
	// Reopen returns a new Opener of the same root, sharing nothing with
	// this one; its Close releases it.
	Reopen() (Opener, error)
}

var (
	_ Reopener = (*Beneath)(nil)
	_ Reopener = (*Roots)(nil)
)

// Reopen opens the root again: a Beneath with no kept dirs.
func (b *Beneath) Reopen() (Opener, error) { return OpenBeneath(b.root) }

// Reopen gives a Roots over the same dirs whose Openers that keep state
// are opened afresh; its Close closes those.
func (r *Roots) Reopen() (Opener, error) {
	by := map[string]Opener{}
	fresh := &Roots{}
	for _, x := range r.roots {
		o := x.o
		if ro, ok := o.(Reopener); ok {
			n, err := ro.Reopen()
			if err != nil {
				fresh.Close()
				return nil, err
			}
			o = n
			fresh.owned = append(fresh.owned, n)
		}
		by[x.dir] = o
	}
	fresh.roots = NewRoots(by).roots
	return fresh, nil
}

// Close closes the Openers Reopen opened for r; a Roots made by NewRoots
// owns none (its caller owns them).
func (r *Roots) Close() error {
	var errs []error
	for _, o := range r.owned {
		if c, ok := o.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	r.owned = nil
	return errors.Join(errs...)
}
