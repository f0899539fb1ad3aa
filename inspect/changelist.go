package inspect

// changeChunk is how many changes a chunk of a changeList holds.
const changeChunk = 1024

// changeList holds the walk's changes in chunks of fixed size, so that
// adding one never copies those already there: a Change is several
// hundred bytes, and a slice of 20,000 of them regrown by doubling spent
// a third of the walk's own time copying and clearing memory.
type changeList struct {
	chunks [][]Change
	n      int
}

// add appends c and returns its index.
func (l *changeList) add(c Change) int {
	if l.n%changeChunk == 0 {
		l.chunks = append(l.chunks, make([]Change, 0, changeChunk))
	}
	k := len(l.chunks) - 1
	l.chunks[k] = append(l.chunks[k], c)
	l.n++
	return l.n - 1
}

// at returns change i.
func (l *changeList) at(i int) *Change { return &l.chunks[i/changeChunk][i%changeChunk] }

// len is the number of changes.
func (l *changeList) len() int { return l.n }

// all returns the changes as one slice (one copy); nil when there are
// none.
func (l *changeList) all() []Change {
	if l.n == 0 {
		return nil
	}
	out := make([]Change, 0, l.n)
	for _, c := range l.chunks {
		out = append(out, c...)
	}
	return out
}

// pop removes the last change.
func (l *changeList) pop() {
	k := len(l.chunks) - 1
	l.chunks[k] = l.chunks[k][:len(l.chunks[k])-1]
	if len(l.chunks[k]) == 0 {
		l.chunks = l.chunks[:k]
	}
	l.n--
}

// each calls f on every change, in order.
func (l *changeList) each(f func(c *Change)) {
	for _, ch := range l.chunks {
		for i := range ch {
			f(&ch[i])
		}
	}
}
