package du

import "testing"

// setLen is the number of inodes the set holds.
func (s *inodeSet) setLen() int {
	n := 0
	for i := range s.shards {
		for _, m := range s.shards[i].byDev {
			n += len(m)
		}
	}
	return n
}

// TestInodeSetDropsLastName pins that the set forgets an inode once the
// walk has met all of its st_nlink names, and keeps one whose other
// names it has not met, charging blocks and sizes as before either way.
func TestInodeSetDropsLastName(t *testing.T) {
	units := []*unit{{}, {}, {}}
	s := newInodeSet()
	two, three := inodeKey{dev: 7, ino: 10}, inodeKey{dev: 7, ino: 11}
	if disk, sized, first := s.see(two, 2, 1, 4096, true, units); disk != 4096 || !sized || !first {
		t.Fatalf("first name: disk %d sized %v first %v", disk, sized, first)
	}
	if disk, sized, first := s.see(three, 3, 2, 512, true, units); disk != 512 || !sized || !first {
		t.Fatalf("first name of the three-name inode: disk %d sized %v first %v", disk, sized, first)
	}
	if got := s.setLen(); got != 2 {
		t.Fatalf("set holds %d inodes after two first names, want 2", got)
	}
	// the second and last name of two, met by a lower unit: the blocks
	// move to it, it counts the size too, and the inode is forgotten
	units[1].disk.Add(4096)
	if disk, sized, first := s.see(two, 2, 0, 4096, true, units); disk != 4096 || !sized || first {
		t.Fatalf("last name: disk %d sized %v first %v", disk, sized, first)
	}
	if got := units[1].disk.Load(); got != 0 {
		t.Errorf("unit 1 keeps %d bytes of blocks that moved to unit 0", got)
	}
	if got := s.setLen(); got != 1 {
		t.Fatalf("set holds %d inodes after one inode's last name, want 1", got)
	}
	// the second of three names, in the same unit: nothing more to charge,
	// and the inode stays, its third name still to come
	if disk, sized, first := s.see(three, 3, 2, 512, true, units); disk != 0 || sized || first {
		t.Fatalf("second of three names: disk %d sized %v first %v", disk, sized, first)
	}
	if got := s.setLen(); got != 1 {
		t.Fatalf("set holds %d inodes, want the three-name one", got)
	}
	if c, x := s.count.Load(), s.extra.Load(); c != 2 || x != 2 {
		t.Errorf("count %d extra %d, want 2 distinct inodes and 2 further names", c, x)
	}
}
