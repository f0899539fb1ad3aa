package progress

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestEvery(t *testing.T) {
	var n atomic.Int64
	stop := Every(time.Millisecond, func() { n.Add(1) })
	time.Sleep(50 * time.Millisecond)
	stop()
	after := n.Load()
	if after == 0 {
		t.Fatal("tick never ran")
	}
	time.Sleep(10 * time.Millisecond)
	if n.Load() != after {
		t.Error("tick ran after stop returned")
	}
	Every(time.Millisecond, nil)() // nothing to run, nothing to stop
}
