package du

import (
	"sync"
	"sync/atomic"
)

// inodeKey names an inode across the whole audit.
type inodeKey struct{ dev, ino uint64 }

// linkEntry is what the audit remembers of an inode with more than one
// name: which unit its blocks are charged to, and which units have already
// counted its st_size (Docker counts a hardlinked file once per layer).
type linkEntry struct {
	owner  int32
	blocks int64
	sized  int32   // first unit that counted the size; -1 for none
	more   []int32 // further units, rare: a link between two layer dirs
}

// inodeSet is the only state of the walk that grows with the tree: one
// entry per inode whose st_nlink > 1 (files with one name cannot be met
// twice). It is sharded so that parallel walkers rarely wait.
type inodeSet struct {
	shards [64]struct {
		mu sync.Mutex
		m  map[inodeKey]*linkEntry
	}
	extra atomic.Int64 // names met after the first: links counted once
	count atomic.Int64 // distinct multi-link inodes
}

func newInodeSet() *inodeSet {
	s := &inodeSet{}
	for i := range s.shards {
		s.shards[i].m = map[inodeKey]*linkEntry{}
	}
	return s
}

// see records that unit u met inode k (st_blocks*512 = blocks). It returns
// the bytes of disk usage to charge to u now, whether u must count the
// inode's st_size (when sized: false if u already did), and whether this is
// the audit's first sight of the inode.
//
// Blocks go to the unit with the lowest index that holds a name of the
// inode, whatever order the walkers meet the names in: units are numbered
// by precedence (image layers first, orphans last), so removing an orphan
// is never credited with blocks a layer keeps alive. When a lower unit
// meets an inode charged to a higher one, the blocks move (units[i].disk).
func (s *inodeSet) see(k inodeKey, u int32, blocks int64, sized bool, units []*unit) (disk int64, countSize, first bool) {
	sh := &s.shards[(k.ino^k.dev)%uint64(len(s.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[k]
	if e == nil {
		e = &linkEntry{owner: u, blocks: blocks, sized: -1}
		if sized {
			e.sized = u
		}
		sh.m[k] = e
		s.count.Add(1)
		return blocks, sized, true
	}
	s.extra.Add(1)
	if u < e.owner {
		units[e.owner].disk.Add(-e.blocks)
		e.owner = u
		disk = e.blocks
	}
	if !sized {
		return disk, false, false
	}
	if e.sized == u {
		return disk, false, false
	}
	for _, x := range e.more {
		if x == u {
			return disk, false, false
		}
	}
	if e.sized < 0 {
		e.sized = u
	} else {
		e.more = append(e.more, u)
	}
	return disk, true, false
}
