package verify

import (
	"math/bits"
	"sync"
)

// inlineMax is the largest file read ahead into memory by a reader; bigger
// files are opened by a reader and streamed by the layer's hasher.
const inlineMax = 1 << 20

// pool is the readers shared by all layers: goroutines that take entries
// and look them up on disk, reading small files whole. The byte budget
// bounds the file content held between a reader and the hasher.
type pool struct {
	jobs chan *batch
	wg   sync.WaitGroup

	mu   sync.Mutex
	cond *sync.Cond
	free int64

	// bufs recycle the buffers of file content, one pool per class.
	bufs [bufClasses]sync.Pool
}

func newPool(readers int, budget int64) *pool {
	p := &pool{jobs: make(chan *batch, 4*readers), free: max(budget, inlineMax)}
	p.cond = sync.NewCond(&p.mu)
	for range readers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for b := range p.jobs {
				for i := range b.entries {
					if e := &b.entries[i]; !e.tail {
						e.lc.lookup(e)
					}
				}
				close(b.done)
			}
		}()
	}
	return p
}

// batchSize is how many entries go to a reader at once: one channel send
// and one wake-up per batch instead of per file.
const batchSize = 64

// batch is consecutive entries of one layer, looked up by one reader.
// The entries are values: one allocation a batch, not one an entry.
type batch struct {
	entries []entry
	done    chan struct{}
}

func newBatch() *batch {
	return &batch{entries: make([]entry, 0, batchSize+1), done: make(chan struct{})}
}

func (p *pool) close() {
	close(p.jobs)
	p.wg.Wait()
}

// acquire takes n bytes of the read-ahead budget, waiting for the hashers
// to release some when there is not enough.
func (p *pool) acquire(n int64) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	for p.free < n {
		p.cond.Wait()
	}
	p.free -= n
	p.mu.Unlock()
}

// tryAcquire takes n bytes of the budget if they are free now.
func (p *pool) tryAcquire(n int64) bool {
	if n <= 0 {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.free < n {
		return false
	}
	p.free -= n
	return true
}

func (p *pool) release(n int64) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	p.free += n
	p.mu.Unlock()
	p.cond.Broadcast()
}

// Buffers for file content come in power-of-two classes from 512 bytes
// to 2 MiB, recycled through one sync.Pool per class.
const (
	minClass   = 9
	bufClasses = 13
)

// getBuf returns a buffer of length n (capacity of its class), boxed: the
// box itself goes back to the pool with putBuf, so that recycling a
// buffer allocates nothing.
func (p *pool) getBuf(n int) *[]byte {
	c := max(bits.Len(uint(n-1)), minClass) - minClass
	if n <= 0 {
		c = 0
	}
	if c >= len(p.bufs) {
		b := make([]byte, n)
		return &b
	}
	if b, ok := p.bufs[c].Get().(*[]byte); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<(c+minClass))
	return &b
}

// putBuf recycles b, which must come from getBuf.
func (p *pool) putBuf(b *[]byte) {
	c := bits.Len(uint(cap(*b))) - 1 - minClass
	if c < 0 || c >= len(p.bufs) || cap(*b) != 1<<(c+minClass) {
		return
	}
	p.bufs[c].Put(b)
}
