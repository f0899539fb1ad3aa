// Package progress runs a long job's progress callback: every so often,
// from a goroutine of its own, until the job says it is done. The scanners
// (du, verify, explain's walk) keep their counters in atomics; what the
// callback shows is the caller's (a terminal's spinner, nothing on a pipe).
package progress

import "time"

// Default is how often Every ticks when asked for no interval.
const Default = 200 * time.Millisecond

// Every calls tick every interval (Default when interval <= 0) until stop
// is called; stop returns once tick no longer runs. A nil tick never runs.
func Every(interval time.Duration, tick func()) (stop func()) {
	if tick == nil {
		return func() {}
	}
	if interval <= 0 {
		interval = Default
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				tick()
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}
