package du

import (
	"runtime"
	"testing"
)

// BenchmarkInodeSetMemory measures the heap the hardlink set holds per
// multi-link inode in its worst case, every inode with a third name outside
// the audited root (so that none is ever dropped): the scale simulation's
// 10M-entry store has 290,342 multi-link inodes.
func BenchmarkInodeSetMemory(b *testing.B) {
	const inodes = 290_342
	units := []*unit{{}}
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := newInodeSet()
		for i := range uint64(inodes) {
			s.see(inodeKey{dev: 1, ino: i + 1}, 3, 0, 4096, true, units)
			s.see(inodeKey{dev: 1, ino: i + 1}, 3, 0, 4096, true, units) // its second name, in the same layer
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(s)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/inodes, "heap-bytes/inode")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
	}
}
