package proxy

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/limits"
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
	leases map[*limits.Lease]struct{} // renewed while their request runs
}

// hold registers a lease for renewal until release.
func (f *flights) hold(l *limits.Lease) {
	f.mu.Lock()
	if f.leases == nil {
		f.leases = make(map[*limits.Lease]struct{})
	}
	f.leases[l] = struct{}{}
	f.mu.Unlock()
}

func (f *flights) release(l *limits.Lease) {
	f.mu.Lock()
	delete(f.leases, l)
	f.mu.Unlock()
}

// held copies the leases to renew into dst.
func (f *flights) held(dst []*limits.Lease) []*limits.Lease {
	f.mu.Lock()
	for l := range f.leases {
		dst = append(dst, l)
	}
	f.mu.Unlock()
	return dst
}

// renew keeps every held lease alive, with the usage it last reported,
// every ttl/4 until stop closes: a lease expires only when its proxy stops
// renewing it, and then bills that report.
func (s *Server) renew(ttl time.Duration, stop <-chan struct{}) {
	if ttl <= 0 {
		ttl = limits.DefaultLeaseTTL
	}
	t := time.NewTicker(max(ttl/4, 10*time.Millisecond))
	defer t.Stop()
	var buf []*limits.Lease
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		buf = s.flight.held(buf[:0])
		for _, l := range buf {
			if err := l.KeepAlive(context.Background(), ttl); err != nil && s.log.IsDebug() {
				s.log.Debug("lease renewal failed", "lease", l.ID(), "error", err)
			}
		}
		clear(buf)
	}
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
