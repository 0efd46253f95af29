package events

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// delivery is one event on its way to one target.
type delivery struct {
	seq       uint64
	eventID   string
	eventType string
	body      []byte // shared by the deliveries of one event; never modified
	created   time.Time
	attempts  int
	durable   bool // a record exists in the outbox
}

// memSeqBit marks seqs of deliveries that live only in memory, so they never
// collide with outbox seqs in a durable dispatcher's fallback path.
const memSeqBit = 1 << 63

// targetQueue holds one target's pending deliveries, sorted by seq, and the
// target's backoff pause. Its workers take from it.
//
// In a durable dispatcher memory holds at most QueueSize deliveries; the rest
// stay in the outbox ("spilled") and are loaded as memory drains. Deliveries
// not in the outbox (memory mode) are dropped, oldest first, when full.
type targetQueue struct {
	d        *Dispatcher
	client   *http.Client // the target's TLS settings
	certOnce sync.Once    // one certificate warning per run
	target   Target
	key      []byte // outbox bucket
	name     string // for logs: index and scheme://host, never the full URL
	cap      int

	wake chan struct{}

	mu          sync.Mutex
	items       []*delivery
	known       map[uint64]struct{} // seqs queued or in flight
	spilled     bool                // the outbox may hold deliveries not in memory
	spillFrom   uint64              // lowest seq that may be missing from memory
	pausedUntil time.Time
	dropping    bool // a drop warning was logged and the queue has not recovered
}

func (q *targetQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push adds a new delivery unless it is already known.
func (q *targetQueue) push(dl *delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.known[dl.seq]; ok {
		return
	}
	if dl.durable && (q.spilled || len(q.items) >= q.cap) {
		q.spill(dl.seq)
		return
	}
	if len(q.items) >= q.cap && !q.makeRoom() {
		return
	}
	q.insert(dl)
	if q.d.cfg.WakeOnEmit {
		q.pausedUntil = time.Time{}
	}
	q.signal()
}

// makeRoom frees one slot for a memory-only delivery: it drops the oldest
// memory-only delivery or, failing that, moves the newest durable one back
// to the outbox. Called with mu held.
func (q *targetQueue) makeRoom() bool {
	for i, it := range q.items {
		if !it.durable {
			q.items = slices.Delete(q.items, i, i+1)
			delete(q.known, it.seq)
			q.d.dropped.Add(1)
			q.d.pending.Add(-1)
			if !q.dropping {
				q.dropping = true
				q.d.log.Warn("webhook queue full, dropping oldest events",
					"target", q.name, "queue_size", q.cap)
			}
			return true
		}
	}
	last := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	delete(q.known, last.seq)
	q.spill(last.seq)
	return true
}

func (q *targetQueue) spill(seq uint64) {
	if !q.spilled || seq < q.spillFrom {
		q.spillFrom = seq
	}
	q.spilled = true
}

// insert keeps items sorted by seq. Called with mu held.
func (q *targetQueue) insert(dl *delivery) {
	i, _ := slices.BinarySearchFunc(q.items, dl.seq, func(it *delivery, seq uint64) int {
		switch {
		case it.seq < seq:
			return -1
		case it.seq > seq:
			return 1
		}
		return 0
	})
	q.items = slices.Insert(q.items, i, dl)
	q.known[dl.seq] = struct{}{}
}

// requeue puts back a delivery that is still pending after an attempt. It
// may exceed cap by the number of workers.
func (q *targetQueue) requeue(dl *delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.known, dl.seq)
	q.insert(dl)
}

// done forgets a finished delivery. Its outbox record is already gone, so a
// reload cannot bring it back.
func (q *targetQueue) done(dl *delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.known, dl.seq)
}

func (q *targetQueue) pause(until time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if until.After(q.pausedUntil) {
		q.pausedUntil = until
	}
}

// next blocks until a delivery is due and returns it, or returns nil when
// the worker must stop: at once when the dispatcher is stopped, or, while it
// is draining, as soon as nothing is due.
func (q *targetQueue) next() *delivery {
	d := q.d
	for {
		if d.runCtx.Err() != nil {
			return nil
		}
		q.mu.Lock()
		if q.spilled && len(q.items) <= q.cap/2 && !d.isDraining() {
			q.reload()
		}
		now := d.cfg.clock.Now()
		var wait time.Duration
		if len(q.items) > 0 {
			if wait = q.pausedUntil.Sub(now); wait <= 0 {
				dl := q.items[0]
				q.items = slices.Delete(q.items, 0, 1)
				if len(q.items) > 0 {
					q.signal() // another worker may take the next one
				} else {
					q.dropping = false
				}
				q.mu.Unlock()
				return dl
			}
		}
		q.mu.Unlock()

		if d.isDraining() {
			return nil
		}
		var timer <-chan time.Time
		stop := func() {}
		if wait > 0 {
			timer, stop = d.cfg.clock.After(wait)
		}
		select {
		case <-q.wake:
		case <-timer:
		case <-d.draining:
		case <-d.runCtx.Done():
			stop()
			return nil
		}
		stop()
	}
}

// reload fills memory from the outbox, starting at spillFrom. Called with mu
// held, which keeps push from deciding on stale spill state meanwhile.
func (q *targetQueue) reload() {
	room := q.cap - len(q.items)
	if room <= 0 {
		return
	}
	ds, next, bad, err := q.d.outbox.load(q.key, q.spillFrom, room, func(seq uint64) bool {
		_, ok := q.known[seq]
		return ok
	})
	if err != nil {
		q.d.log.Error("loading pending webhook deliveries", "target", q.name, "error", err)
		return
	}
	for _, dl := range ds {
		q.insert(dl)
	}
	for _, seq := range bad {
		q.d.log.Warn("dropping corrupt outbox record", "target", q.name, "seq", seq)
		if err := q.d.outbox.remove(q.key, seq); err != nil {
			q.d.log.Error("removing corrupt outbox record", "target", q.name, "error", err)
		}
		q.d.failed.Add(1)
		q.d.pending.Add(-1)
	}
	if next == 0 {
		q.spilled = false
	} else {
		q.spillFrom = next
	}
}

// leftover empties the queue at shutdown and returns how many memory-only
// deliveries it held.
func (q *targetQueue) leftover() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, it := range q.items {
		if !it.durable {
			n++
		}
	}
	q.items = nil
	return n
}
