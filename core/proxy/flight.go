package proxy

import (
	"sync"
	"sync/atomic"
	"time"
)

// flights tracks what holds a lease: handlers of LLM requests and the relays
// that outlive them. Shutdown cuts the relays and waits for all of them to
// settle before the limiter is closed. Registration happens once per
// request or stream, under one mutex; the hot path of a relay only reads
// its own atomic flag.
type flights struct {
	wg     sync.WaitGroup
	n      atomic.Int64
	mu     sync.Mutex
	relays map[*relay]struct{}
}

func (f *flights) begin() {
	f.wg.Add(1)
	f.n.Add(1)
}

func (f *flights) end() {
	f.n.Add(-1)
	f.wg.Done()
}

func (f *flights) count() int64 { return f.n.Load() }

// addRelay registers a stream that will call end when it has settled.
func (f *flights) addRelay(r *relay) {
	f.begin()
	f.mu.Lock()
	if f.relays == nil {
		f.relays = make(map[*relay]struct{})
	}
	f.relays[r] = struct{}{}
	f.mu.Unlock()
}

func (f *flights) removeRelay(r *relay) {
	f.mu.Lock()
	delete(f.relays, r)
	f.mu.Unlock()
	f.end()
}

// cutAll asks every running relay to stop; it returns how many were asked
// for the first time.
func (f *flights) cutAll() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for r := range f.relays {
		if r.cut.CompareAndSwap(false, true) {
			n++
		}
	}
	return n
}

// wait waits up to d for everything in flight to settle.
func (f *flights) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
