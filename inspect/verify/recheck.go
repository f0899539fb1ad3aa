package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// KindChangedDuringScan is the kind of a Changed entry: an object that
// appeared, changed or vanished while the store was read. It is
// information, not a finding: it belongs to no Check and is not counted
// among the findings (verify exits 0 for it).
const KindChangedDuringScan Kind = "changed_during_scan"

// Recheck says how the objects the scan found problems with are re-read
// before they are reported, to tell a live engine's work in progress (a
// container being created or removed, an image being built or deleted)
// from damage. Each re-read is of a fresh snapshot of the store (nothing
// of the scan's memoized reads) holding only those objects and what their
// checks consult: their images, layers and parents.
//
// An object is reported as before when every re-read gives it the same
// findings as the scan did. Otherwise it changed during the scan: once two
// re-reads in a row agree (it settled), it is a Changed entry when it is
// gone or its records now agree, and its findings are those of the last
// re-read when it settled into another problem; an object still changing
// when the re-reads run out is a Changed entry too. Content and tree
// findings are not re-checked (image layers do not change in place): they
// are dropped only when their object is gone; a finding about the store as
// a whole (a stray name: Docker's own ".tmp-…" while it writes a config)
// only when its path is gone.
type Recheck struct {
	// Delays are the pauses before each re-read; none means no re-check
	// (and the findings of an object removed during the scan are dropped
	// silently, as they always were).
	Delays []time.Duration
	// Reopen opens the fresh snapshot of each re-read and returns what
	// releases it; nil is (*inspect.Store).Reopen. Tests inject a hook
	// that changes the store between reads.
	Reopen func(*inspect.Store) (*inspect.Store, func(), error)
}

// DefaultRecheck is what the CLI uses: up to three re-reads, after 200,
// 600 and 1200 ms (2 s in all, spent only when there are findings, and cut
// short once every changed object has settled).
func DefaultRecheck() Recheck {
	return Recheck{Delays: []time.Duration{200 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond}}
}

// Settled is what the re-reads found of an object that changed during
// the scan.
type Settled string

// What a changed object settled into.
const (
	SettledGone       Settled = "gone"       // the object was removed
	SettledConsistent Settled = "consistent" // its records now agree: no finding
	SettledChanging   Settled = "changing"   // still changing when the re-reads ran out
)

// String returns the state as written in JSON.
func (s Settled) String() string { return string(s) }

// Changed is an object that changed while the store was read: the scan
// gave it findings that the re-reads did not confirm. Information: it
// does not make verify exit 1.
type Changed struct {
	// Kind is KindChangedDuringScan.
	Kind       Kind       `json:"kind"`
	ObjectType ObjectType `json:"object_type"`
	Object     string     `json:"object"`
	// Path is the object's own entry: its layerdb dir, imagedb config or
	// container dir.
	Path string `json:"path"`
	// Seen are the kinds of the findings the scan gave it, sorted.
	Seen []Kind `json:"seen"`
	// Now is what the re-reads found.
	Now Settled `json:"now"`
	// Message says it in words.
	Message string `json:"message"`
	// Affects is as a finding's.
	Affects Affects `json:"affects"`
}

// objKey is one object findings are about.
type objKey struct {
	typ ObjectType
	id  string
}

// reading is what one re-read found of an object.
type reading struct {
	gone  bool
	sig   string    // the re-checked findings, as compared
	finds []Finding // those findings
}

func (a reading) same(b reading) bool { return a.gone == b.gone && a.sig == b.sig }

// rechecked says whether a re-read re-derives findings of kind k: the
// metadata checks of one image, layer or container. Content and tree
// findings need the layer's content hashed again (it does not change in
// place); two records naming one layer dir is never Docker's doing.
func rechecked(f Finding) bool {
	return f.ObjectType != ObjectStore && f.Kind.Check() == CheckMetadata && f.Kind != KindLayerDirClaimedTwice
}

// signature is the findings of one object that a re-read must give
// again, in a comparable form.
func signature(fs []Finding) (string, []Finding) {
	var lines []string
	var kept []Finding
	for _, f := range fs {
		if rechecked(f) {
			lines = append(lines, strings.Join([]string{f.Kind.String(), f.Path, f.Expected, f.Actual, f.Message}, "\x00"))
			kept = append(kept, f)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n"), kept
}

// recheck re-reads the objects of found (finish's output) and of the
// findings finish left out as gone, and returns the findings to report
// and the objects that changed during the scan.
func (m *model) recheck(ctx context.Context, rc Recheck, found []Finding) ([]Finding, []Changed, error) {
	byID := m.containerNames()
	var changed []Changed
	goneObjs := map[objKey][]Finding{}
	var goneOrder []objKey
	for _, f := range m.gone {
		k := objKey{f.ObjectType, f.Object}
		if goneObjs[k] == nil {
			goneOrder = append(goneOrder, k)
		}
		goneObjs[k] = append(goneObjs[k], f)
	}
	objs := map[objKey][]Finding{}
	var order []objKey
	for _, f := range found {
		k := objKey{f.ObjectType, f.Object}
		if f.ObjectType == ObjectStore {
			k.id = f.Path // a stray name, say, is re-checked by its path
		}
		if objs[k] == nil {
			order = append(order, k)
		}
		objs[k] = append(objs[k], f)
	}
	reported := map[objKey][]Finding{} // what a stable object reports: as without a re-check
	for k, fs := range objs {
		reported[k] = fs
	}
	for _, k := range goneOrder {
		if objs[k] != nil {
			// part of it is still there (a container's dir is gone, its
			// rw layer record not yet): it is re-read as a whole
			objs[k] = append(objs[k], goneObjs[k]...)
			continue
		}
		changed = append(changed, m.changedEntry(k, goneObjs[k], SettledGone, byID))
	}
	if len(order) == 0 {
		return found, m.sortChanged(changed), nil
	}
	var inModel []objKey // the keys a snapshot re-reads
	for _, k := range order {
		if k.typ != ObjectStore {
			inModel = append(inModel, k)
		}
	}
	first := map[objKey]reading{}
	for _, k := range order {
		sig, fs := signature(objs[k])
		first[k] = reading{sig: sig, finds: fs}
	}
	reopen := rc.Reopen
	if reopen == nil {
		reopen = (*inspect.Store).Reopen
	}
	reads := map[objKey][]reading{}
	for i, d := range rc.Delays {
		if err := sleep(ctx, d); err != nil {
			return nil, nil, err
		}
		fresh, release, err := reopen(m.s)
		if err != nil {
			break // the root cannot be read again: report what the scan saw
		}
		snap := m.snapshot(fresh, inModel)
		for _, k := range order {
			r := first[k]
			if k.typ != ObjectStore {
				r = snap.reading(k)
			} else if _, err := fresh.FS().Lstat(k.id); errors.Is(err, fs.ErrNotExist) {
				r = reading{gone: true}
			}
			reads[k] = append(reads[k], r)
		}
		release()
		if i > 0 && allSettledChanged(order, first, reads) {
			break
		}
	}

	var out []Finding
	for _, k := range order {
		rs := reads[k]
		if len(rs) == 0 || stable(first[k], rs) {
			out = append(out, reported[k]...)
			continue
		}
		last := rs[len(rs)-1]
		settled := len(rs) >= 2 && last.same(rs[len(rs)-2])
		var keep []Finding
		if !last.gone {
			for _, f := range reported[k] {
				if !rechecked(f) {
					keep = append(keep, f)
				}
			}
		}
		switch {
		case settled && last.gone:
			changed = append(changed, m.changedEntry(k, objs[k], SettledGone, byID))
		case settled && last.sig == "":
			changed = append(changed, m.changedEntry(k, first[k].finds, SettledConsistent, byID))
		case settled:
			for _, f := range last.finds {
				keep = append(keep, m.fill(f, byID))
			}
		default:
			changed = append(changed, m.changedEntry(k, first[k].finds, SettledChanging, byID))
		}
		out = append(out, keep...)
	}
	m.sortFindings(out)
	return out, m.sortChanged(changed), nil
}

// stable says whether every re-read gave the object the scan's findings.
func stable(first reading, rs []reading) bool {
	for _, r := range rs {
		if !r.same(first) {
			return false
		}
	}
	return true
}

// allSettledChanged says whether every object has changed and its last
// two re-reads agree: more re-reads would tell nothing new.
func allSettledChanged(order []objKey, first map[objKey]reading, reads map[objKey][]reading) bool {
	for _, k := range order {
		rs := reads[k]
		n := len(rs)
		if n < 2 || stable(first[k], rs) || !rs[n-1].same(rs[n-2]) {
			return false
		}
	}
	return true
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// changedEntry describes object k that changed during the scan, whose
// scan gave finds.
func (m *model) changedEntry(k objKey, finds []Finding, now Settled, byID map[string]string) Changed {
	var seen []Kind
	for _, f := range finds {
		seen = append(seen, f.Kind)
	}
	slices.Sort(seen)
	seen = slices.Compact(seen)
	names := make([]string, len(seen))
	for i, s := range seen {
		names[i] = s.String()
	}
	what := strings.Join(names, ", ")
	var msg string
	switch now {
	case SettledGone:
		msg = "removed while the store was read (the scan saw " + what + "): it is gone now"
	case SettledConsistent:
		msg = "changed while the store was read (the scan saw " + what + "): re-read once it settled, its records agree"
	default:
		msg = "still changing when the re-reads ended (the scan saw " + what + "): not reported as a finding; run verify again"
	}
	obj := k.id
	if k.typ == ObjectStore {
		obj = ""
	}
	f := m.fill(Finding{ObjectType: k.typ, Object: obj}, byID)
	return Changed{Kind: KindChangedDuringScan, ObjectType: k.typ, Object: obj, Path: m.objectPath(k),
		Seen: seen, Now: now, Message: msg, Affects: f.Affects}
}

// objectPath is the object's own entry in the store.
func (m *model) objectPath(k objKey) string {
	switch k.typ {
	case ObjectLayer:
		return m.s.LayerPath(digest.Digest(k.id))
	case ObjectImage:
		return m.s.ImagePath("imagedb", "content", "sha256", digest.Digest(k.id).Encoded())
	case ObjectContainer:
		return m.s.Path("containers", k.id)
	case ObjectBlob:
		return m.blobPath(digest.Digest(k.id))
	}
	return k.id // the store: the path of its findings
}

// sortChanged orders changed objects as findings are ordered: images,
// layers, containers, then by ID.
func (m *model) sortChanged(cs []Changed) []Changed {
	slices.SortStableFunc(cs, func(a, b Changed) int {
		if a.ObjectType != b.ObjectType {
			return a.ObjectType.rank() - b.ObjectType.rank()
		}
		return strings.Compare(a.Object, b.Object)
	})
	return cs
}

// reading is what the snapshot gives object k.
func (n *model) reading(k objKey) reading {
	if n.objectGone(k) {
		return reading{gone: true}
	}
	var fs []Finding
	for _, f := range n.findings {
		if f.ObjectType == k.typ && f.Object == k.id {
			fs = append(fs, f)
		}
	}
	sig, kept := signature(fs)
	return reading{sig: sig, finds: kept}
}

// objectGone says whether object k is no longer in the snapshot's store:
// a layer's layerdb dir, an image's config (and any tag naming it), a
// container's dir and its rw layer record are gone.
func (n *model) objectGone(k objKey) bool {
	absent := func(p string) bool {
		_, err := n.s.FS().Lstat(p)
		return errors.Is(err, fs.ErrNotExist)
	}
	switch k.typ {
	case ObjectLayer:
		if r, ok := n.s.Records(); ok {
			return !r.HasLayer(digest.Digest(k.id))
		}
		return absent(n.s.LayerPath(digest.Digest(k.id)))
	case ObjectBlob:
		return absent(n.blobPath(digest.Digest(k.id)))
	case ObjectImage:
		return n.images[digest.Digest(k.id)] == nil && len(n.tags[digest.Digest(k.id)]) == 0
	case ObjectContainer:
		return absent(n.s.Path("containers", k.id)) && absent(n.s.ImagePath("layerdb", "mounts", k.id))
	}
	return false
}

// String names the object, for test failures.
func (k objKey) String() string { return fmt.Sprintf("%s %s", k.typ, k.id) }
