package layerfs

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

var _ Reopener = (*Beneath)(nil)

// Reopen opens the root again: a Beneath with no kept dirs.
func (b *Beneath) Reopen() (Opener, error) { return OpenBeneath(b.root) }
