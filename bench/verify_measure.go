package bench

import (
	"runtime"
	"sync/atomic"
	"time"
)

// measure times fn and samples the Go heap while it runs.
func measure(fn func() error) (time.Duration, uint64, error) {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var stats runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&stats)
			if stats.HeapAlloc > peak.Load() {
				peak.Store(stats.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t0 := time.Now()
	err := fn()
	d := time.Since(t0)
	close(stop)
	<-done
	return d, peak.Load(), err
}

// found counts how many of want a method reported in got, and what else.
func found(want, got map[int64]bool) Found {
	n := 0
	for id := range want {
		if got[id] {
			n++
		}
	}
	return Found{Injected: n, Want: len(want), Other: len(got) - n}
}

// sameKeys says whether a and b hold the same keys.
func sameKeys(a, b map[int64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
