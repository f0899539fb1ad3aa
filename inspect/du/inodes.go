package du

import (
	"slices"
	"sync"
	"sync/atomic"
)

// inodeKey names an inode across the whole audit.
type inodeKey struct{ dev, ino uint64 }

// linkEntry is what the audit remembers of an inode with more than one
// name: which unit its blocks are charged to, the first unit that counted
// its st_size (Docker counts a hardlinked file once per layer), and how many
// of its names the walk has met. Its blocks need no field: every name of
// the inode stats the same st_blocks. It is a 12-byte value in a map keyed
// by the inode number alone (one map per device): no allocation per inode
// (BenchmarkInodeSetMemory).
type linkEntry struct {
	owner int32
	sized int32  // first unit that counted the size; -1 for none
	met   uint32 // names met so far
}

// inodeSet is the only state of the walk that can grow with the tree: one
// entry per inode whose st_nlink > 1 (files with one name cannot be met
// twice), from its first name met to its last: once the walk has met as
// many names as st_nlink counts, no other name of it exists and the entry
// is dropped. So the set holds the inodes whose names the walk is between
// (a layer's hardlinks lie in the same tree, met close together), and
// only the inodes with a name outside the audited root stay to the end.
// It is sharded so that parallel walkers rarely wait.
type inodeSet struct {
	shards [64]struct {
		mu    sync.Mutex
		byDev map[uint64]map[uint64]linkEntry // dev → ino → entry
		// more holds the further units that counted an inode's size
		// after linkEntry.sized: rare, a link between two units' sized
		// trees.
		more map[inodeKey][]int32
	}
	extra atomic.Int64 // names met after the first: links counted once
	count atomic.Int64 // distinct multi-link inodes
}

func newInodeSet() *inodeSet {
	s := &inodeSet{}
	for i := range s.shards {
		s.shards[i].byDev = map[uint64]map[uint64]linkEntry{}
	}
	return s
}

// see records that unit u met inode k (st_blocks*512 = blocks; nlink its
// st_nlink, > 1). It returns the bytes of disk usage to charge to u now,
// whether u must count the inode's st_size (when sized: false if u already
// did), and whether this is the audit's first sight of the inode.
//
// Blocks go to the unit with the lowest index that holds a name of the
// inode, whatever order the walkers meet the names in: units are numbered
// by precedence (image layers first, orphans last), so removing an orphan
// is never credited with blocks a layer keeps alive. When a lower unit
// meets an inode charged to a higher one, the blocks move (units[i].disk).
func (s *inodeSet) see(k inodeKey, nlink uint64, u int32, blocks int64, sized bool, units []*unit) (disk int64, countSize, first bool) {
	sh := &s.shards[(k.ino^k.dev)%uint64(len(s.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	m := sh.byDev[k.dev]
	if m == nil {
		m = map[uint64]linkEntry{}
		sh.byDev[k.dev] = m
	}
	e, ok := m[k.ino]
	if !ok {
		e = linkEntry{owner: u, sized: -1, met: 1}
		if sized {
			e.sized = u
		}
		m[k.ino] = e
		s.count.Add(1)
		return blocks, sized, true
	}
	s.extra.Add(1)
	e.met++
	if u < e.owner {
		units[e.owner].disk.Add(-blocks)
		e.owner = u
		disk = blocks
	}
	switch {
	case !sized || e.sized == u:
	case e.sized < 0:
		e.sized = u
		countSize = true
	case !slices.Contains(sh.more[k], u):
		if sh.more == nil {
			sh.more = map[inodeKey][]int32{}
		}
		sh.more[k] = append(sh.more[k], u)
		countSize = true
	}
	if uint64(e.met) >= nlink { // its last name: no walker can meet it again
		delete(m, k.ino)
		delete(sh.more, k)
		return disk, countSize, false
	}
	m[k.ino] = e
	return disk, countSize, false
}
