package verify

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"sync"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// dirCache holds open descriptors of a layer's directories, keyed by their
// clean path relative to the layer root ("." for the root). A directory is
// opened by walking from the root one name at a time with O_NOFOLLOW
// (layerfs.Dir.Sub), so no symlink is ever followed and no path leaves the
// layer. Readers use it concurrently; idle descriptors are closed when more
// than max are open.
type dirCache struct {
	mu   sync.Mutex
	m    map[string]*cachedDir
	max  int
	root *cachedDir
}

type cachedDir struct {
	d    *layerfs.Dir
	err  error
	refs int
	// ents is the dir's listing (name → d_type), read once by the first
	// reader that asks while the dir is open.
	once    sync.Once
	ents    map[string]uint8
	entsErr error
}

func newDirCache(root *layerfs.Dir, max int) *dirCache {
	r := &cachedDir{d: root, refs: 1} // never evicted
	return &dirCache{m: map[string]*cachedDir{".": r}, max: max, root: r}
}

// get returns the open directory p; put must be called when done with it.
func (c *dirCache) get(p string) (*layerfs.Dir, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cd, err := c.getLocked(p)
	if err != nil {
		return nil, err
	}
	return cd.d, nil
}

func (c *dirCache) getLocked(p string) (*cachedDir, error) {
	if cd, ok := c.m[p]; ok {
		if cd.err != nil {
			return nil, cd.err
		}
		cd.refs++
		return cd, nil
	}
	parent, err := c.getLocked(path.Dir(p))
	cd := &cachedDir{err: err}
	if err == nil {
		cd.d, cd.err = parent.d.Sub(path.Base(p))
		parent.refs--
	}
	if len(c.m) >= c.max {
		c.evictLocked()
	}
	c.m[p] = cd
	if cd.err != nil {
		return nil, cd.err
	}
	cd.refs++
	return cd, nil
}

// listing returns the entries of dir p with their directory-entry types
// (unix.DT_*), read with one getdents pass per open of the dir; the caller
// holds p through get. The map is shared: read it, never change it.
func (c *dirCache) listing(p string) (map[string]uint8, error) {
	c.mu.Lock()
	cd := c.m[p]
	c.mu.Unlock()
	if cd == nil || cd.d == nil {
		return nil, fmt.Errorf("%s: not open", p)
	}
	cd.once.Do(func() { cd.ents, cd.entsErr = cd.d.List() })
	return cd.ents, cd.entsErr
}

// names returns the names in dir p, held by the caller through get, from
// its one listing.
func (c *dirCache) names(p string) ([]string, error) {
	ents, err := c.listing(p)
	if err != nil {
		return nil, err
	}
	return slices.Collect(maps.Keys(ents)), nil
}

// put releases a directory returned by get.
func (c *dirCache) put(p string) {
	c.mu.Lock()
	if cd, ok := c.m[p]; ok && cd.refs > 0 {
		cd.refs--
	}
	c.mu.Unlock()
}

// evictLocked closes every idle directory but the root.
func (c *dirCache) evictLocked() {
	for p, cd := range c.m {
		if cd.refs == 0 && cd != c.root {
			if cd.d != nil {
				cd.d.Close()
			}
			delete(c.m, p)
		}
	}
}

// close closes every directory, the root included.
func (c *dirCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, cd := range c.m {
		if cd.d != nil {
			cd.d.Close()
		}
		delete(c.m, p)
	}
}
