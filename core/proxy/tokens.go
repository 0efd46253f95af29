package proxy

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// TokenSource is where the proxy's tokens come from: the local bbolt store,
// which the syncer also writes when a central server is configured. It
// hands over each committed transaction's changes in one call, so a sync of
// ten thousand changes is one cache swap, and walks its records one at a
// time (Each), so a start never holds ten thousand decoded records.
type TokenSource interface {
	Each(fn func(store.Record) error) error
	SubscribeBatch(fn func([]store.Change)) (cancel func())
}

// tokenEntry is everything a request needs about its token, built once per
// revision of the record, never per request.
type tokenEntry struct {
	// *policyTemplate is what the token shares with every token of its
	// policy bytes (parsed policy, limits, rules, prompts, memory), reached
	// through one pointer, not copied: an entry of a fleet of ten thousand
	// is 192 bytes, not 352. Its fields are read as the entry's own
	// (e.lim) and never written through an entry. It keeps the template
	// alive while a token uses it (see sharedCache). Route variants hold a
	// copy with their own prompts and rules; an entry whose policy did not
	// load holds noTemplate.
	*policyTemplate
	hash      string
	short     string // hash prefix for logs and events
	expiresAt time.Time
	hasExpiry bool
	cost      costLimits // the template's, with this token's subject (cost.go)
	// routes are variants for provider entries with prompts or rules of
	// their own, by group and entry index (see forRoute); nil otherwise.
	routes  [][]*tokenEntry
	err     error       // the stored policy did not load: refuse with 500
	expired atomic.Bool // token.expired event sent
}

// noTemplate is the template of entries whose policy did not load: every
// field zero, so nothing reads through a nil pointer before e.err refuses.
var noTemplate = &policyTemplate{}

func (e *tokenEntry) expiredAt(now time.Time) bool {
	return e.hasExpiry && !now.Before(e.expiresAt)
}

// cacheShards splits the cache so that a change copies one shard, not the
// whole map. Keys are hex hashes: the first two hex digits pick the shard.
const cacheShards = 256

// shardSet is one immutable version of the cache. Readers never see a
// shard map change: writers copy the shards they touch into a new set.
type shardSet [cacheShards]map[string]*tokenEntry

// tokenCache maps token hashes to entries. Reads are one atomic load and a
// map lookup, without any lock on the request path. A batch of changes
// copies only the shards it touches and publishes them with one atomic
// swap, so a sync of any size is one swap and costs in proportion to what
// it changed, and a revocation is visible to the next request.
type tokenCache struct {
	set   atomic.Pointer[shardSet]
	mu    sync.Mutex // serializes writers
	build func(store.Record) *tokenEntry
	log   hclog.Logger
	// Between beginLoad and load, changes are kept rather than applied:
	// they may be newer than the snapshot load installs (a revocation
	// pulled while the proxy starts), so load replays them on top of it.
	loading bool
	pending [][]store.Change
}

func newTokenCache(build func(store.Record) *tokenEntry, log hclog.Logger) *tokenCache {
	c := &tokenCache{build: build, log: log}
	c.set.Store(&shardSet{})
	return c
}

// shardOf picks a key's shard from its first two characters (hex digits
// for real hashes; anything else still lands somewhere, consistently).
func shardOf[T string | []byte](key T) int {
	if len(key) < 2 {
		return 0
	}
	return int(unhex(key[0])<<4 | unhex(key[1]))
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c & 0x0f
}

// get looks a hash up; string(hash) in a map index does not allocate.
func (c *tokenCache) get(hash []byte) *tokenEntry {
	return c.set.Load()[shardOf(hash)][string(hash)]
}

func (c *tokenCache) len() int {
	n := 0
	for _, m := range c.set.Load() {
		n += len(m)
	}
	return n
}

// beginLoad makes the cache keep the changes it is told of until load:
// call it before subscribing to the store and listing it.
func (c *tokenCache) beginLoad() {
	c.mu.Lock()
	c.loading = true
	c.mu.Unlock()
}

// load replaces the whole cache with recs (see loadEach).
func (c *tokenCache) load(recs []store.Record) {
	_ = c.loadEach(func(fn func(store.Record) error) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadEach replaces the whole cache with the records each walks, then
// replays the changes kept since beginLoad, so none that raced the listing
// is lost. Replaying one that the listing already holds is harmless:
// batches come in revision order, so the last word on each token is the
// newest. Entries are built as the walk hands records over, so only the
// entries stay. An error from each installs nothing and is returned; the
// cache keeps holding changes back, for the caller gives up.
func (c *tokenCache) loadEach(each func(func(store.Record) error) error) error {
	set := &shardSet{}
	err := each(func(r store.Record) error {
		i := shardOf(r.Hash)
		if set[i] == nil {
			set[i] = make(map[string]*tokenEntry)
		}
		e := c.build(r)
		set[i][e.hash] = e // the entry's copy of the hash, not the record's
		return nil
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set.Store(set)
	for _, changes := range c.pending {
		c.swapIn(changes, c.buildAll(changes))
	}
	c.pending, c.loading = nil, false
	return nil
}

// apply folds one transaction's changes into the cache with one swap.
// Entries are built before the lock: building may compile rules.
func (c *tokenCache) apply(changes []store.Change) {
	if len(changes) == 0 {
		return
	}
	c.mu.Lock()
	if c.loading {
		c.pending = append(c.pending, changes)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	built := c.buildAll(changes)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.swapIn(changes, built)
}

func (c *tokenCache) buildAll(changes []store.Change) []*tokenEntry {
	built := make([]*tokenEntry, len(changes))
	for i, ch := range changes {
		if !ch.Deleted && ch.Record != nil {
			built[i] = c.build(*ch.Record)
		}
	}
	return built
}

// swapIn publishes changes (with their built entries) in one swap; c.mu
// is held.
func (c *tokenCache) swapIn(changes []store.Change, built []*tokenEntry) {
	old := c.set.Load()
	next := *old
	var copied [cacheShards]bool
	for i, ch := range changes {
		k := shardOf(ch.Hash)
		if !copied[k] {
			next[k] = maps.Clone(old[k])
			if next[k] == nil {
				next[k] = map[string]*tokenEntry{}
			}
			copied[k] = true
		}
		if built[i] == nil {
			delete(next[k], ch.Hash)
		} else {
			next[k][ch.Hash] = built[i]
		}
	}
	c.set.Store(&next)
	if c.log.IsDebug() {
		last := changes[len(changes)-1]
		c.log.Debug("token changes applied", "changes", len(changes), "last_token", shortHash(last.Hash),
			"last_deleted", last.Deleted, "revision", last.Revision)
	}
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
