package events

import (
	"container/heap"
	"sync"
	"time"
)

// replayCache remembers accepted event ids until they expire. It is bounded:
// when full, the entry that expires first is forgotten, which is the entry
// whose replay would soon be rejected as stale anyway. Only authenticated
// requests are added, so only a sender holding the keys can fill it.
type replayCache struct {
	mu    sync.Mutex
	max   int
	exp   map[string]time.Time
	order expiryHeap
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, exp: make(map[string]time.Time)}
}

// add records id until expires and reports whether it was new (or had
// expired). It prunes expired entries first.
func (c *replayCache) add(id string, expires, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	// An entry lives while now <= exp: a replay at exactly exp would still
	// pass the skew check.
	for len(c.order) > 0 && c.order[0].exp.Before(now) {
		c.pop()
	}
	if _, ok := c.exp[id]; ok {
		return false
	}
	for len(c.order) >= c.max {
		c.pop()
	}
	c.exp[id] = expires
	heap.Push(&c.order, seenID{id: id, exp: expires})
	return true
}

func (c *replayCache) pop() {
	e := heap.Pop(&c.order).(seenID)
	// The map may hold a newer entry for the same id; keep that one.
	if c.exp[e.id].Equal(e.exp) {
		delete(c.exp, e.id)
	}
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.exp)
}

type seenID struct {
	id  string
	exp time.Time
}

// expiryHeap is a min-heap on expiry time.
type expiryHeap []seenID

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(seenID)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
