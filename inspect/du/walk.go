package du

import (
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// sizeMode says which entries of a unit count toward its Docker size.
type sizeMode uint8

const (
	// sizeSub: only entries below the unit's subdir sub (a layer dir's
	// content, overlay2/<id>/diff).
	sizeSub sizeMode = iota
	// sizeAll: every non-directory of the unit.
	sizeAll
	// sizeNone: only disk usage is counted.
	sizeNone
)

// unit is one tree the audit charges bytes to: a dir under overlay2/, l/,
// a container dir, another top-level entry of the data root. Counters are
// updated by several walkers at once.
type unit struct {
	path string // absolute, for messages and results
	mode sizeMode
	sub  string // the subdir that holds the content, for sizeSub
	logs bool   // count <id>-json.log* directly under the root apart (container dirs)
	// usage: the Docker size is allocated bytes, dirs included
	// (backend.SizeUsage), not st_size.
	usage bool

	size, disk, files, dirs    atomic.Int64
	logSize, logDisk, logFiles atomic.Int64
	pending                    atomic.Int64 // dirs queued or being listed
}

// dirRef is an open directory whose children are still to be opened. It
// is closed when its own listing is done and the last child task has opened
// its dir. parent and name only make path names for messages.
type dirRef struct {
	fd     int
	dev    uint64
	parent *dirRef // for path names in messages only
	name   string
	refs   atomic.Int32
}

func (d *dirRef) path() string {
	if d.parent == nil {
		return d.name
	}
	return d.parent.path() + "/" + d.name
}

func (d *dirRef) release() {
	if d.refs.Add(-1) == 0 {
		unix.Close(d.fd)
	}
}

// task is a directory to list: the child name of parent, in unit u.
type task struct {
	parent *dirRef
	name   string
	u      int32
	depth  int32 // 0 for the unit's root
	inSize bool  // entries below count toward the unit's size
}

// direntBuf is the size of each worker's getdents buffer: a directory of
// a few thousand entries is listed in one call.
const direntBuf = 64 << 10

// walker lists directories in parallel. Each worker goes depth first
// through its own stack of tasks (so few directories are open at once) and
// hands the older half of it to a shared stack only when another worker is
// waiting, so workers rarely touch a lock or wake each other. Each dir is
// listed with getdents and every name stat-ed with fstatat relative to the
// dir's descriptor — no path is ever built, no symlink followed, no other
// file system entered (as du -x).
type walker struct {
	units []*unit
	links *inodeSet

	mu      sync.Mutex
	cond    *sync.Cond
	stack   []task       // shared
	pending atomic.Int64 // tasks queued (shared or local) or being listed
	waiting atomic.Int32 // workers waiting for the shared stack

	errMu  sync.Mutex
	errs   []walkError
	mounts []string

	files, bytes, unitsDone, unitsQueued atomic.Int64
	sparse, sparseBytes                  atomic.Int64
}

// walkError is a directory or entry that could not be read.
type walkError struct {
	unit int32
	path string
	err  error
}

func newWalker(units []*unit) *walker {
	w := &walker{units: units, links: newInodeSet()}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// openRoot opens an absolute directory as a dirRef held once by the caller.
func openRoot(path string) (*dirRef, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	d := &dirRef{fd: fd, dev: st.Dev, name: path}
	d.refs.Store(1)
	return d, nil
}

// self charges the directory d itself (its own blocks) to unit u.
func (w *walker) self(d *dirRef, u int32) {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		w.fail(u, d.path(), err)
		return
	}
	var c counts
	w.account(&c, u, &st, nil, false, 0)
	c.flush(w.units[u])
}

// addRoot stats name in parent, charges it to unit u and, when it is a
// directory on the same file system, queues it.
func (w *walker) addRoot(parent *dirRef, name string, u int32) {
	var st unix.Stat_t
	b := append([]byte(name), 0)
	if err := lstatAt(parent.fd, &b[0], &st); err != nil {
		if !errors.Is(err, unix.ENOENT) { // gone since it was listed: nothing to count
			w.fail(u, parent.path()+"/"+name, err)
		}
		return
	}
	if st.Dev != parent.dev {
		w.mount(parent.path() + "/" + name)
		return
	}
	var c counts
	w.account(&c, u, &st, nil, w.units[u].mode == sizeAll, 0)
	c.flush(w.units[u])
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		w.unitsQueued.Add(1)
		parent.refs.Add(1)
		w.push([]task{{parent: parent, name: name, u: u, inSize: w.units[u].mode == sizeAll}})
	}
}

// push queues tasks on the shared stack.
func (w *walker) push(ts []task) {
	if len(ts) == 0 {
		return
	}
	w.count(ts)
	w.share(ts)
}

// count registers new tasks as pending.
func (w *walker) count(ts []task) {
	for _, t := range ts {
		w.units[t.u].pending.Add(1)
	}
	w.pending.Add(int64(len(ts)))
}

// share moves counted tasks to the shared stack and wakes waiters.
func (w *walker) share(ts []task) {
	w.mu.Lock()
	w.stack = append(w.stack, ts...)
	w.mu.Unlock()
	w.cond.Broadcast()
}

// run lists every queued directory with n workers and returns when all
// are done.
func (w *walker) run(n int) {
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, direntBuf)
			var local []task
			for {
				var t task
				if k := len(local); k > 0 {
					t, local = local[k-1], local[:k-1]
				} else {
					var ok bool
					if t, ok = w.pop(); !ok {
						return
					}
				}
				kids := w.list(t, buf)
				w.count(kids)
				local = append(local, kids...)
				if len(local) > 1 && w.waiting.Load() > 0 {
					half := len(local) / 2
					w.share(append([]task(nil), local[:half]...))
					local = append(local[:0], local[half:]...)
				}
				w.done(t)
			}
		}()
	}
	wg.Wait()
}

// pop takes a task from the shared stack, waiting while other workers
// may still queue some; false means the walk is over.
func (w *walker) pop() (task, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.stack) == 0 {
		if w.pending.Load() == 0 {
			return task{}, false
		}
		w.waiting.Add(1)
		w.cond.Wait()
		w.waiting.Add(-1)
	}
	t := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	return t, true
}

// done marks a task finished; the last one wakes every waiting worker.
func (w *walker) done(t task) {
	if w.units[t.u].pending.Add(-1) == 0 {
		w.unitsDone.Add(1)
	}
	if w.pending.Add(-1) == 0 {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}

func (w *walker) fail(u int32, path string, err error) {
	w.errMu.Lock()
	w.errs = append(w.errs, walkError{unit: u, path: path, err: err})
	w.errMu.Unlock()
}

func (w *walker) mount(path string) {
	w.errMu.Lock()
	w.mounts = append(w.mounts, path)
	w.errMu.Unlock()
}
