package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
)

// gcFloor is the heap a run may grow to before its first garbage
// collection. With GOGC's default the collector starts at a 4 MB heap and
// runs again at every doubling: a `dlayer diff` of 20,000 changes, which
// allocates 16 MB in all, spent a third of its CPU time and a sixth of its
// wall time in four collections and the page faults they cause (perf
// stat on issue 16's store: 92 ms CPU and 59 ms wall; 72 and 44 without
// them; docs/performance.md).
const gcFloor = 32 << 20

// deferFirstGC lets the heap reach floor bytes before the first
// collection, then hands the collector back to GOGC as it was: a run that
// needs more memory than the floor is collected as usual from then on (its
// peak heap is at most the larger of the floor and what GOGC gives), and
// one that does not is never collected. The memory limit that holds the
// collection off is lifted by a cleanup that the first collection runs,
// so it never makes the collector run again and again on a heap that
// stays above it. GOGC or GOMEMLIMIT in the environment win: nothing is
// changed then.
func deferFirstGC(floor int64) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	percent := debug.SetGCPercent(-1)
	debug.SetMemoryLimit(floor)
	sentinel := new(struct{ p *byte }) // a pointer: never in the tiny allocator, so its cleanup runs
	runtime.AddCleanup(sentinel, func(percent int) {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(math.MaxInt64)
	}, percent)
}
