package whose

import (
	"fmt"
	"os"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/buildkit"
)

// buildKit returns BuildKit's dir names (buildkit/snapshots.db), read
// once; nil when they could not be read (and a finding says why).
func (q *query) buildKit() map[string]bool {
	if q.bkRead {
		return q.bk
	}
	q.bkRead = true
	p := q.s.Path("buildkit", "snapshots.db")
	bk, err := buildkit.Snapshots(q.s.FS(), p)
	if err != nil {
		q.finding("buildkit_unreadable", p, fmt.Sprintf("%v (build cache dirs cannot be told from orphans)", err))
		return nil
	}
	q.bk = bk
	return bk
}

// layerOwner sets the owner of driver dir id.
func (q *query) layerOwner(id string) {
	s, x, a := q.s, q.index(), q.a
	g := s.Graph()
	a.LayerDir = id
	if cs := x.claims[id]; len(cs) > 1 {
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = inspect.ShortID(c)
			if ct, ok := x.ctrByID[c]; ok {
				names[i] += " (" + ct.Name + ", " + ct.State.Status + ")"
			}
		}
		q.claimedBy = names
		q.finding("layer_dir_claimed_twice", g.Layout(id).Dir, "claimed by the records of containers "+strings.Join(names, " and ")+": one of the records is not Docker's")
	}
	switch x.owner(id) {
	case OwnerImageLayer:
		a.Owner = Owner{Kind: OwnerImageLayer, ID: id, Layer: x.layer(s, x.byCache[id])}
	case OwnerRWLayer:
		a.Owner = Owner{Kind: OwnerRWLayer, ID: id, Container: x.container(x.byMount[id])}
	case OwnerInitLayer:
		a.Owner = Owner{Kind: OwnerInitLayer, ID: id, Container: x.container(x.byInit[id])}
	default:
		if why, ok := g.Bookkeeping(id); ok {
			a.Owner = Owner{Kind: OwnerBookkeeping, ID: id, Why: why}
			return
		}
		if dr, ok := s.DirRecords(); ok {
			rec := dr.DirRecord(id)
			what := rec.What
			switch rec.Role {
			case backend.DirBuildCache:
				a.Owner = Owner{Kind: OwnerBuildCache, ID: id, Why: "BuildKit's build cache: " + what}
				return
			case backend.DirForeign:
				a.Owner = Owner{Kind: OwnerUnaccounted, ID: id, Why: what + ": another tenant of containerd's store owns it"}
				return
			case backend.DirRecorded:
				if by, ref, ok := s.UnownedLower(id); ok {
					a.Owner = Owner{Kind: OwnerUnownedLower, ID: id, Why: inspect.UnownedReason(by, ref)}
					return
				}
				a.Owner = Owner{Kind: OwnerUnaccounted, ID: id, Why: "the store records it (" + what + "), but no image layer, container or build names it"}
				return
			}
		} else if q.buildKit()[id] {
			a.Owner = Owner{Kind: OwnerBuildCache, ID: id, Why: "BuildKit snapshot (buildkit/snapshots.db)"}
			return
		}
		if by, ref, ok := s.UnownedLower(id); ok {
			a.Owner = Owner{Kind: OwnerUnownedLower, ID: id, Why: inspect.UnownedReason(by, ref)}
			return
		}
		if by, ok := s.StackedOn(id); ok {
			a.Owner = Owner{Kind: OwnerUnaccounted, ID: id, Why: inspect.StackedReason(by)}
			return
		}
		a.Owner = Owner{Kind: OwnerOrphan, ID: id, Why: s.OrphanReason(g.Layout(id).Dir, id, func(m string) string { return x.byMount[m] })}
		return
	}
	dir := g.Layout(id).Dir
	if _, err := s.FS().Lstat(dir); err != nil {
		q.finding("layer_dir_missing", dir, fmt.Sprintf("the %s's dir is missing (%v)", strings.ReplaceAll(string(a.Owner.Kind), "_", " "), err))
	}
}

// readlink reads a symlink's target as text (never followed).
func readlink(s *inspect.Store, p string) (string, error) {
	fi, err := s.FS().Lstat(p)
	if err != nil {
		return "", err
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return "", fmt.Errorf("%s: not a symlink (%s)", p, fileType(fi.Mode()))
	}
	return s.FS().Readlink(p)
}
