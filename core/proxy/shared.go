package proxy

import (
	"runtime"
	"sync"
	"weak"
)

// sharedCache hands out one value per key, built on first use, to every
// holder of an equal key: ten thousand tokens of one policy share one
// parsed policy and one compiled rule set. Values are held weakly, so one
// that no token uses any more is collected and its entry dropped.
type sharedCache[T any] struct {
	mu    sync.Mutex // guards byKey; serializes builds
	byKey map[string]weak.Pointer[T]
}

func newSharedCache[T any]() *sharedCache[T] {
	return &sharedCache[T]{byKey: map[string]weak.Pointer[T]{}}
}

// get returns the value for key, building it with build when there is
// none. A build that fails is not kept: what failed (a plugin not synced
// yet) may succeed next time.
func (c *sharedCache[T]) get(key []byte, build func() (*T, error)) (*T, error) {
	return c.getShared(key, func() (*T, bool, error) {
		v, err := build()
		return v, true, err
	})
}

// getShared is get for values that may turn out, once built, not to be
// shareable (share false): those are returned to the caller alone and not
// kept, so the next holder of the key builds its own.
func (c *sharedCache[T]) getShared(key []byte, build func() (*T, bool, error)) (*T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if wp, ok := c.byKey[string(key)]; ok {
		if v := wp.Value(); v != nil {
			return v, nil
		}
	}
	v, share, err := build()
	if err != nil {
		return nil, err
	}
	if !share {
		return v, nil
	}
	k := string(key)
	c.byKey[k] = weak.Make(v)
	runtime.AddCleanup(v, c.drop, k)
	return v, nil
}

// drop forgets key once its value was collected, unless a newer one took
// its place.
func (c *sharedCache[T]) drop(key string) {
	c.mu.Lock()
	if wp, ok := c.byKey[key]; ok && wp.Value() == nil {
		delete(c.byKey, key)
	}
	c.mu.Unlock()
}

// forget drops key if it still holds v, so the next get builds anew.
func (c *sharedCache[T]) forget(key []byte, v *T) {
	c.mu.Lock()
	if wp, ok := c.byKey[string(key)]; ok && wp.Value() == v {
		delete(c.byKey, string(key))
	}
	c.mu.Unlock()
}

// has reports whether key has a live value (for tests).
func (c *sharedCache[T]) has(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	wp, ok := c.byKey[key]
	return ok && wp.Value() != nil
}

// len is the number of keys held, live or not yet dropped.
func (c *sharedCache[T]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}
