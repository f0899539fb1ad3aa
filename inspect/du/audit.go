package du

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/buildkit"
	"github.com/dlayer/dlayer/inspect/progress"
	"golang.org/x/sys/unix"
)

// Options tune Audit.
type Options struct {
	// Workers bounds the directories listed at once; 0 means
	// DefaultWorkers().
	Workers int
	// Progress, when set, is called from another goroutine about every
	// ProgressEvery (default 200ms) while the walk runs, and once with
	// Done set at its end.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Mounts are the host's live union mounts (inspect.Store.LiveMounts
	// of --mountinfo): a layer dir one of them uses (as its upper, work or
	// a lower dir) is in use, never an orphan, whatever the records say.
	Mounts []inspect.LiveMount
}

// Progress is a snapshot of a running audit.
type Progress struct {
	// DirsDone of Dirs top-level trees (layer dirs, container dirs, other
	// parts of the data root) are walked.
	DirsDone, Dirs int64
	// Files is the number of entries stat-ed so far; DiskUsage their
	// allocated bytes.
	Files, DiskUsage int64
	Done             bool
}

// DefaultWorkers is how many directories an audit lists at once unless
// told: twice GOMAXPROCS, at least 16. The walk is all system calls; with
// a cold cache each of them may wait for the device, and more walkers
// than cores keep its queue full (docs/performance.md has the table this
// was chosen from: 2, 4, 8 and 16 walkers, caches dropped); with a warm
// cache the extra walkers cost nothing measurable.
func DefaultWorkers() int {
	return max(16, 2*runtime.GOMAXPROCS(0))
}

// Audit accounts for every byte of the data root s: it reads the
// metadata, charges each entry of the driver's home to its owner (or calls
// it an orphan and says why), walks every tree once, in parallel, and returns the
// numbers and the problems found. It reads only; an error means the store
// cannot be read at all.
func Audit(s *inspect.Store, opt Options) (*Report, error) {
	m, err := readMeta(s)
	if err != nil {
		return nil, err
	}
	bk, bkErr := map[string]bool{}, error(nil)
	if _, ok := s.DirRecords(); !ok { // else the store's records say which dirs are build cache
		bk, bkErr = buildkit.Snapshots(s.FS(), s.Path("buildkit", "snapshots.db"))
	}
	if bkErr != nil {
		m.find(KindBuildkitUnreadable, s.Path("buildkit", "snapshots.db"), "%v (build cache dirs cannot be told from orphans)", bkErr)
		bk = map[string]bool{}
	}
	root, err := filepath.EvalSymlinks(s.Root)
	if err != nil {
		return nil, fmt.Errorf("data root %s: %w", s.Root, err)
	}
	rootRef, err := openRoot(root)
	if err != nil {
		return nil, fmt.Errorf("data root %s: %w", s.Root, err)
	}
	defer rootRef.release()
	g := s.Graph()
	r := &Report{Root: s.Root, Driver: s.Driver, DriverDir: g.Home(), OtherDrivers: s.Others, Terms: g.Terms(), Home: g.HomeLayout()}
	if r.OtherDrivers == nil {
		r.OtherDrivers = []string{}
	}
	if st, ok := s.StoreTree(); ok {
		r.StoreRoot = st.Tree().Root
	}
	p := newPlan(s, r, m, bk)
	p.mounts = opt.Mounts
	refs := map[where]*dirRef{inRoot: rootRef}
	names := map[where][]string{}
	for _, pd := range p.dirs {
		var ref *dirRef
		var ns []string
		if pd.in == inOwnRoot {
			ref, ns, err = openTree(pd.path)
		} else {
			parent := refs[pd.in]
			if parent == nil { // its parent is missing: so is it
				continue
			}
			ref, ns, err = openSub(parent, pd.name)
		}
		if err != nil && (pd.tree || pd.lead) && pd.in != inOwnRoot {
			// a dir of the store's tree that is not a dir (a symlink, a
			// file): its entry is charged as a whole, never entered
			m.find(KindUnreadable, pd.path, "%v: not a dir dlayer enters (never followed); charged as a whole", err)
			p.drop(pd.at)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pd.path, err)
		}
		if ref != nil {
			refs[pd.at], names[pd.at] = ref, ns
		}
	}
	if names[inRoot], err = readNamesFd(rootRef.fd); err != nil {
		return nil, fmt.Errorf("data root %s: %w", s.Root, err)
	}
	p.classify(names)

	w := newWalker(p.units)
	for at, u := range p.selfs {
		if ref := refs[at]; ref != nil {
			w.self(ref, u)
		}
	}
	for _, e := range p.entries {
		w.addRoot(refs[e.parent], e.name, e.unit)
	}
	for at, ref := range refs {
		if at != inRoot {
			ref.release()
		}
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	stop := startProgress(w, opt)
	w.run(workers)
	stop()

	p.collect(w)
	applySizeRules(s, m, p, workers)
	checkLinks(s, m, p)
	finishAccounting(r, m, p)
	sort.Strings(r.Mounts)
	if r.Mounts == nil {
		r.Mounts = []string{}
	}
	r.Findings = append(r.Findings, m.finds...)
	if r.Findings == nil {
		r.Findings = []inspect.Finding{}
	}
	return r, nil
}

// AuditAll is Audit of s and, with them in OtherStores, of each other
// store the root holds whose files lie outside the data root (a host
// upgraded to Docker 29 keeps its graph driver's store, and the
// containerd store beside it has its own tree, which the audit of s does
// not walk). A sibling graph driver's dirs, which lie in the data root,
// are one line of s's audit (InactiveDriver). Progress reports the audit
// of s only.
func AuditAll(s *inspect.Store, opt Options) (*Report, error) {
	r, err := Audit(s, opt)
	if err != nil {
		return nil, err
	}
	quiet := opt
	quiet.Progress = nil
	for _, name := range s.Others {
		sib, ok := s.Sibling(backend.Name(name))
		if !ok {
			continue
		}
		if _, own := sib.StoreTree(); !own {
			continue
		}
		or, err := Audit(sib, quiet)
		if err != nil {
			r.Findings = append(r.Findings, inspect.Finding{Kind: inspect.FindingKind(KindUnreadable), Path: sib.Graph().Home(),
				Message: fmt.Sprintf("the %s store of this root could not be audited: %v", name, err)})
			continue
		}
		r.OtherStores = append(r.OtherStores, or)
	}
	return r, nil
}

// openTree opens and lists the root of a store's tree outside the data
// root (its own path may hold symlinks, as the data root's may; nothing
// below it is followed).
func openTree(path string) (*dirRef, []string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, nil, err
	}
	d, err := openRoot(real)
	if err != nil {
		return nil, nil, err
	}
	d.name = path
	names, err := readNamesFd(d.fd)
	if err != nil {
		d.release()
		return nil, nil, err
	}
	return d, names, nil
}

// openSub opens name below parent (never through a symlink) and lists it.
// A missing dir gives a nil ref and no error.
func openSub(parent *dirRef, name string) (*dirRef, []string, error) {
	fd, err := unix.Openat(parent.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, nil, err
	}
	d := &dirRef{fd: fd, dev: st.Dev, parent: parent, name: name}
	d.refs.Store(1)
	names, err := readNamesFd(fd)
	if err != nil {
		d.release()
		return nil, nil, err
	}
	return d, names, nil
}

// readNamesFd lists the open directory fd through a duplicate of it.
func readNamesFd(fd int) ([]string, error) {
	nfd, err := unix.Dup(fd)
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(nfd)
	f := os.NewFile(uintptr(nfd), "dir")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// startProgress calls opt.Progress periodically until the returned stop
// is called, then once more with Done.
func startProgress(w *walker, opt Options) (stop func()) {
	if opt.Progress == nil {
		return func() {}
	}
	snap := func(done bool) Progress {
		return Progress{DirsDone: w.unitsDone.Load(), Dirs: w.unitsQueued.Load(), Files: w.files.Load(), DiskUsage: w.bytes.Load(), Done: done}
	}
	halt := progress.Every(opt.ProgressEvery, func() { opt.Progress(snap(false)) })
	return func() {
		halt()
		opt.Progress(snap(true))
	}
}
