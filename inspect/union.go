package inspect

import (
	"sort"
	"sync/atomic"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// ldir is an open directory of one lower layer (index into walker.layers).
type ldir struct {
	layer int
	d     *layerfs.Dir
}

// lowerHit is a lower view lookup result: the entry and which of the
// contributing dirs (index into the slice searched) holds it.
type lowerHit struct {
	e   layerfs.Entry
	at  int
	lay int
}

// frame is one directory of the upper dir being walked.
type frame struct {
	rel     string
	upper   *layerfs.Dir
	entries []layerfs.Entry
	next    int
	// view: lower dirs whose entries this dir's upper entries shadow
	// (overlay semantics, for explain). old: the lower view docker diff
	// compares against. They differ below opaque and redirected dirs.
	view, old []ldir
	// dockerAdded: the old view lacks this dir, so everything below is A.
	dockerAdded bool
	change      int // index of this dir's Change; -1 for the root
	changed     bool
	// implied: the dir's Change is only its presence in a form that keeps
	// every dir (layerfs.Entry.Implied); dropped if nothing below is listed.
	implied bool
	// reads are the subdirs read ahead (prefetch.go), by entry index;
	// ahead is the next entry to issue a read for.
	reads []*dirRead
	ahead int
}

// walker computes the changes of an upper dir against lower layers.
type walker struct {
	f      layerfs.Format
	roots  []ldir // the lower layers' root dirs, topmost first
	origin func(layer int, rel string) *Origin
	// list is the changes; changes, all of them in one slice after the
	// walk (but for docker diff alone).
	list    changeList
	changes []Change
	extra   []DiffLine
	finds   []Finding
	// rwSize and rwDisk add up the upper dir like directory.Size (each inode once).
	rwSize, rwDisk int64
	inodes         map[[2]uint64]bool
	// diffSize adds up what docker diff lists as added or changed like
	// archive.ChangesSize (non-dirs, each inode once).
	diffSize   int64
	diffInodes map[[2]uint64]bool
	// diffOnly skips what only explain needs (Store.Diff): comparing the
	// content of copied-up entries, reading symlinks, listing what an
	// opaque dir hides, finding a redirect's origin.
	diffOnly bool
	// dead, when set, is told of each lower entry the upper dir makes
	// invisible (classify.go kill).
	dead func(DeadEntry)
	// counts, when set, counts the changes by kind (each inode's bytes
	// once: counted).
	counts  map[ChangeKind]EntryCount
	counted map[[2]uint64]bool
	// pre reads upper dirs ahead of the walk, during walk.
	pre *prefetcher
	// entriesRead and dirsEntered count the walk's progress, for
	// ExplainOptions.Progress (read from another goroutine).
	entriesRead, dirsEntered atomic.Int64
}

// walk visits every entry of upper, depth first, with an explicit stack:
// no recursion limit, one open descriptor per directory level per layer.
func (w *walker) walk(upper *layerfs.Dir, lowers []ldir) error {
	ents, err := w.f.ReadDir(upper)
	if err != nil {
		return err
	}
	w.pre = newPrefetcher(w.f)
	defer func() {
		w.pre.stop()
		w.pre = nil
		if !w.diffOnly { // the walk for docker diff alone keeps only list
			w.changes = w.list.all()
		}
	}()
	stack := []*frame{{rel: "/", upper: upper, entries: ents, view: lowers, old: lowers, change: -1}}
	for len(stack) > 0 {
		fr := stack[len(stack)-1]
		w.readAhead(fr)
		if fr.next == len(fr.entries) {
			w.dropReads(fr)
			stack = stack[:len(stack)-1]
			if fr.implied && w.list.len() == fr.change+1 {
				w.drop()
				closeFrame(fr)
				continue
			}
			if fr.change >= 0 {
				c := w.list.at(fr.change)
				if fr.changed && c.DockerDiff == "" {
					c.DockerDiff = "C"
				}
				if len(stack) > 0 && (fr.changed || c.DockerDiff != "") {
					stack[len(stack)-1].changed = true
				}
				closeFrame(fr)
			}
			continue
		}
		e := fr.entries[fr.next]
		fr.next++
		w.entriesRead.Add(1)
		n := w.list.len()
		child, err := w.visit(fr, e)
		if w.list.len() > n && w.list.at(n).DockerDiff != "" {
			fr.changed = true
			w.countDiff(e.Stat, w.list.at(n).DockerDiff)
		}
		if err != nil {
			w.finds = append(w.finds, Finding{Kind: "unreadable_entry", Path: fr.upper.Path + "/" + e.RawName, Message: err.Error()})
			continue
		}
		if child != nil {
			w.dirsEntered.Add(1)
			stack = append(stack, child)
		}
	}
	return nil
}

func closeFrame(fr *frame) {
	fr.upper.Close()
	closeDirs(fr.view)
	if !sameDirs(fr.view, fr.old) {
		closeDirs(fr.old)
	}
}

func closeDirs(ds []ldir) {
	for _, d := range ds {
		d.d.Close()
	}
}

func sameDirs(a, b []ldir) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// lookup finds name in the lower view made of dirs (topmost first): the
// first dir holding it decides; a whiteout there means "deleted".
func (w *walker) lookup(dirs []ldir, name string) (lowerHit, bool, error) {
	for i, ld := range dirs {
		e, ok, err := w.f.Lookup(ld.d, name)
		if err != nil {
			return lowerHit{}, false, err
		}
		if !ok || e.Kind == layerfs.Bookkeeping {
			continue
		}
		if e.Kind == layerfs.Whiteout {
			return lowerHit{}, false, nil
		}
		return lowerHit{e: e, at: i, lay: ld.layer}, true, nil
	}
	return lowerHit{}, false, nil
}

// subdirs opens the lower view of dir name below dirs: every contributing
// layer's dir, from the top, down to the first whiteout, non-dir or opaque
// dir (inclusive).
func (w *walker) subdirs(dirs []ldir, name string) ([]ldir, error) {
	var out []ldir
	for _, ld := range dirs {
		e, ok, err := w.f.Lookup(ld.d, name)
		if err != nil {
			closeDirs(out)
			return nil, err
		}
		if !ok || e.Kind == layerfs.Bookkeeping {
			continue
		}
		if e.Kind == layerfs.Whiteout || !e.Stat.IsDir() {
			break
		}
		sub, err := ld.d.Sub(name)
		if err != nil {
			closeDirs(out)
			return nil, err
		}
		out = append(out, ldir{layer: ld.layer, d: sub})
		if e.Opaque {
			break
		}
	}
	return out, nil
}

// children lists the merged view of dirs: name → layer that provides it.
func (w *walker) children(dirs []ldir) (names []string, from map[string]int, err error) {
	hits, err := w.merged(dirs)
	if err != nil {
		return nil, nil, err
	}
	from = make(map[string]int, len(hits))
	names = make([]string, 0, len(hits))
	for _, h := range hits {
		names = append(names, h.e.Name)
		from[h.e.Name] = h.lay
	}
	return names, from, nil
}

// merged is the merged view of dirs (topmost first): each visible name's
// entry from the first dir holding it, whiteouts and bookkeeping left
// out, sorted by name.
func (w *walker) merged(dirs []ldir) ([]lowerHit, error) {
	var out []lowerHit
	seen := map[string]bool{}
	for i, ld := range dirs {
		ents, err := w.f.ReadDir(ld.d)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if e.Kind == layerfs.Bookkeeping || seen[e.Name] {
				continue
			}
			seen[e.Name] = true
			if e.Kind != layerfs.Whiteout {
				out = append(out, lowerHit{e: e, at: i, lay: ld.layer})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].e.Name < out[j].e.Name })
	return out, nil
}

// tree calls fn for every entry of the merged view below dirs (rel their
// path), depth first, and closes dirs. One open descriptor per level per
// layer.
func (w *walker) tree(dirs []ldir, rel string, fn func(p string, h lowerHit)) error {
	type item struct {
		dirs []ldir
		rel  string
	}
	stack := []item{{dirs, rel}}
	var first error
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		hits, err := w.merged(it.dirs)
		if err != nil && first == nil {
			first = err
		}
		for _, h := range hits {
			p := join(it.rel, h.e.Name)
			fn(p, h)
			if !h.e.Stat.IsDir() {
				continue
			}
			sub, err := w.subdirs(it.dirs[h.at:], h.e.Name)
			if err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			if len(sub) > 0 {
				stack = append(stack, item{sub, p})
			}
		}
		closeDirs(it.dirs)
	}
	return first
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// statDifferent is docker diff's test (moby pkg/archive changes_unix.go):
// mode, uid, gid, rdev, and for non-dirs size and mtime.
func statDifferent(o, n layerfs.Stat) bool {
	if o.Mode != n.Mode || o.UID != n.UID || o.GID != n.GID || o.Rdev != n.Rdev {
		return true
	}
	if !n.IsDir() {
		return o.Size != n.Size || !sameFsTime(o, n)
	}
	return false
}

// sameFsTime: seconds match, and nanoseconds match or either is 0 (a file
// system without sub-second times).
func sameFsTime(o, n layerfs.Stat) bool {
	return o.Mtime.Sec == n.Mtime.Sec && (o.Mtime.Nsec == n.Mtime.Nsec || o.Mtime.Nsec == 0 || n.Mtime.Nsec == 0)
}

// countSize adds an upper entry to the rw layer size like moby's
// directory.Size: non-dirs by st_size, each inode once.
func (w *walker) countSize(st layerfs.Stat) {
	if st.IsDir() {
		w.rwDisk += st.Blocks * 512
		return
	}
	k := [2]uint64{st.Dev, st.Ino}
	if st.Nlink > 1 {
		if w.inodes[k] {
			return
		}
		w.inodes[k] = true
	}
	w.rwSize += st.Size
	w.rwDisk += st.Blocks * 512
}

// countDiff adds an upper entry that docker diff lists with letter to
// the size moby's archive.ChangesSize gives the changes (the SizeRw of a
// driver whose Terms say SizeChanges): st_size of the non-dirs listed as
// A or C, each inode once. A dir's letter may still change to C after its
// entries; dirs never count.
func (w *walker) countDiff(st layerfs.Stat, letter string) {
	if st.IsDir() || letter != "A" && letter != "C" {
		return
	}
	if st.Nlink > 1 {
		k := [2]uint64{st.Dev, st.Ino}
		if w.diffInodes == nil {
			w.diffInodes = map[[2]uint64]bool{}
		}
		if w.diffInodes[k] {
			return
		}
		w.diffInodes[k] = true
	}
	w.diffSize += st.Size
}

// perm is the permission bits in octal, four digits ("0644", "4755"),
// as %04o gives them (Perm is at most 07777).
func perm(st layerfs.Stat) string {
	p := st.Perm()
	b := [4]byte{'0' + byte(p>>9&7), '0' + byte(p>>6&7), '0' + byte(p>>3&7), '0' + byte(p&7)}
	return string(b[:])
}
