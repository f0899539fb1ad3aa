package inspect

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// prefetchWindow bounds the upper dirs read ahead of the walk and not yet
// entered: each holds one descriptor and its entries. On a loaded host a
// small window stalls the workers whenever the walk is descheduled (4
// dirs made dlayer diff about twice as slow as 32 on issue 16's store).
const prefetchWindow = 32

// dirRead is one upper dir read ahead: opened below its parent and
// listed (ReadDir: an lstat and the xattrs of every entry), by a worker
// or, when the walk gets there first, by the walk itself.
type dirRead struct {
	taken  atomic.Bool
	done   chan struct{}
	parent *layerfs.Dir
	name   string
	added  bool // markers only: layerfs.ReadDirAdded
	sub    *layerfs.Dir
	ents   []layerfs.Entry
	err    error
}

// prefetcher reads the upper dirs the walk will enter, on the other
// cores, while the walk classifies the entries it has: the upper dir's
// lstat and xattr calls run in parallel with the lower lookups.
type prefetcher struct {
	f    layerfs.Format
	jobs chan *dirRead
	// slots bounds the reads issued and not yet taken by the walk.
	slots chan struct{}
	wg    sync.WaitGroup
}

func newPrefetcher(f layerfs.Format) *prefetcher {
	p := &prefetcher{f: f, jobs: make(chan *dirRead, 2*prefetchWindow), slots: make(chan struct{}, prefetchWindow)}
	n := runtime.GOMAXPROCS(0)
	p.wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer p.wg.Done()
			for r := range p.jobs {
				if r.taken.CompareAndSwap(false, true) {
					r.run(p.f)
				}
			}
		}()
	}
	return p
}

// stop ends the workers; every read issued must have been taken.
func (p *prefetcher) stop() {
	close(p.jobs)
	p.wg.Wait()
}

// ahead issues the read of dir name below parent; nil when the window is
// full (the walk then reads it itself when it gets there).
func (p *prefetcher) ahead(parent *layerfs.Dir, name string, added bool) *dirRead {
	select {
	case p.slots <- struct{}{}:
	default:
		return nil
	}
	r := &dirRead{done: make(chan struct{}), parent: parent, name: name, added: added}
	// The queue may also hold reads the walk has taken itself: a full one
	// waits for a worker to pop one, and workers wait on nothing else.
	p.jobs <- r
	return r
}

func (r *dirRead) run(f layerfs.Format) {
	defer close(r.done)
	if r.sub, r.err = r.parent.Sub(r.name); r.err != nil {
		return
	}
	if r.ents, r.err = readDir(f, r.sub, r.added); r.err != nil {
		r.sub.Close()
		r.sub = nil
	}
}

// take returns the read's result, reading it now if no worker has begun
// it; the caller owns the dir.
func (p *prefetcher) take(r *dirRead) (*layerfs.Dir, []layerfs.Entry, error) {
	if r.taken.CompareAndSwap(false, true) {
		r.run(p.f)
	} else {
		<-r.done
	}
	<-p.slots
	return r.sub, r.ents, r.err
}

// readDir lists d, only for the union's markers when added (an upper dir
// docker diff lists as added, walked for docker diff alone).
func readDir(f layerfs.Format, d *layerfs.Dir, added bool) ([]layerfs.Entry, error) {
	if added {
		return layerfs.ReadDirAdded(f, d)
	}
	return f.ReadDir(d)
}

// readSub opens and lists dir name of the frame's upper dir (see
// readDir for added): the read issued ahead for entry i when there is
// one.
func (w *walker) readSub(fr *frame, i int, name string, added bool) (*layerfs.Dir, []layerfs.Entry, error) {
	if w.pre != nil && i < len(fr.reads) && fr.reads[i] != nil {
		r := fr.reads[i]
		fr.reads[i] = nil
		return w.pre.take(r)
	}
	sub, err := fr.upper.Sub(name)
	if err != nil {
		return nil, nil, err
	}
	ents, err := readDir(w.f, sub, added)
	if err != nil {
		sub.Close()
		return nil, nil, err
	}
	return sub, ents, nil
}

// readAhead issues the reads of the frame's subdirs from fr.next on, as
// far as the window allows.
func (w *walker) readAhead(fr *frame) {
	if w.pre == nil {
		return
	}
	if fr.reads == nil {
		fr.reads = make([]*dirRead, len(fr.entries))
		fr.ahead = fr.next
	}
	for ; fr.ahead < len(fr.entries); fr.ahead++ {
		e := fr.entries[fr.ahead]
		if e.Kind != layerfs.Plain || !e.Stat.IsDir() {
			continue
		}
		// below an added dir every dir is added: its entries need only
		// their markers when the walk is for docker diff alone
		r := w.pre.ahead(fr.upper, e.RawName, w.diffOnly && fr.dockerAdded)
		if r == nil {
			return
		}
		fr.reads[fr.ahead] = r
	}
}

// dropReads takes and closes the reads of a frame that the walk did not
// enter (an entry it could not classify).
func (w *walker) dropReads(fr *frame) {
	for i, r := range fr.reads {
		if r == nil {
			continue
		}
		fr.reads[i] = nil
		if sub, _, _ := w.pre.take(r); sub != nil {
			sub.Close()
		}
	}
}
