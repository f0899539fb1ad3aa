package overlay

import (
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"golang.org/x/sys/unix"
)

// parentEntry is one entry of a parent layer's dir, as Format compares it.
type parentEntry struct {
	st     layerfs.Stat
	target string // a symlink's target, as text
}

// listing is a parent layer's dir at one path: its entries; none when
// the parent has no dir there. A nil listing has no entries (no parent).
type listing struct {
	ents map[string]parentEntry
}

func (l *listing) get(name string) (parentEntry, bool) {
	if l == nil {
		return parentEntry{}, false
	}
	e, ok := l.ents[name]
	return e, ok
}

func (l *listing) names() []string {
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l.ents))
	for n := range l.ents {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// listings keeps the last parent dirs read, so that a walk of a layer
// dir reads each dir of its parent once. It holds no open descriptors.
type listings struct {
	mu    sync.Mutex
	max   int
	m     map[string]*listing
	order []string
}

func newListings(max int) *listings { return &listings{max: max, m: map[string]*listing{}} }

// parentListing reads the dir at rel of the root/ of id's parent layer;
// nil when id has no parent layer.
func (f *Format) parentListing(id string, rel []string) (*listing, error) {
	pid, ok := f.parent(id)
	if !ok {
		return nil, nil
	}
	key := pid + "/" + strings.Join(rel, "/")
	c := f.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.m[key]; ok {
		return l, nil
	}
	l, err := readListing(filepath.Join(f.home, pid, rootDir), rel)
	if err != nil {
		return nil, err
	}
	if len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[key] = l
	c.order = append(c.order, key)
	return l, nil
}

// readListing opens root and then each component of rel without
// following a symlink, and lists the dir it reaches. A component that is
// missing or is not a dir there gives an empty listing.
func readListing(root string, rel []string) (*listing, error) {
	l := &listing{ents: map[string]parentEntry{}}
	d, err := layerfs.OpenDir(root)
	if absent(err) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	defer func() { d.Close() }()
	for _, name := range rel {
		sub, err := d.Sub(name)
		if absent(err) {
			return l, nil
		}
		if err != nil {
			return nil, err
		}
		d.Close()
		d = sub
	}
	names, err := d.Names()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		st, ok, err := d.Lstat(n)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		pe := parentEntry{st: st}
		if st.Type() == layerfs.TypeSymlink {
			if pe.target, err = d.Readlink(n); err != nil {
				return nil, err
			}
		}
		l.ents[n] = pe
	}
	return l, nil
}

// absent: the path is not there as a dir (missing, a file, a symlink).
func absent(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP)
}
