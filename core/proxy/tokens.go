package proxy

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// TokenSource is where the proxy's tokens come from: the local bbolt store,
// which the syncer also writes when a central server is configured.
type TokenSource interface {
	List() ([]store.Record, error)
	Subscribe(fn func(store.Change)) (cancel func())
}

// tokenEntry is everything a request needs about its token, built once per
// revision of the record, never per request.
type tokenEntry struct {
	hash      string
	short     string // hash prefix for logs and events
	expiresAt time.Time
	hasExpiry bool
	policy    *policy.Policy
	rules     *tokenRules // nil when the policy has no rules
	lim       tokenLimits
	prompts   []providers.Message
	// promptEstimate is the policy prompts' share of every reservation.
	promptEstimate int64
	promptBound    int64          // their guaranteed upper bound (providers.MessageBound)
	memory         *policy.Memory // nil when disabled
	err            error          // the stored policy did not load: refuse with 500
	expired        atomic.Bool    // token.expired event sent
}

func (e *tokenEntry) expiredAt(now time.Time) bool {
	return e.hasExpiry && !now.Before(e.expiresAt)
}

// tokenCache maps token hashes to entries. Reads are one atomic load and a
// map lookup; writers copy the map, so a revocation is visible to the next
// request without any lock on the request path.
type tokenCache struct {
	m     atomic.Pointer[map[string]*tokenEntry]
	mu    sync.Mutex // serializes writers
	build func(store.Record) *tokenEntry
	log   hclog.Logger
}

func newTokenCache(build func(store.Record) *tokenEntry, log hclog.Logger) *tokenCache {
	c := &tokenCache{build: build, log: log}
	empty := map[string]*tokenEntry{}
	c.m.Store(&empty)
	return c
}

// get looks a hash up; string(hash) in a map index does not allocate.
func (c *tokenCache) get(hash []byte) *tokenEntry {
	return (*c.m.Load())[string(hash)]
}

func (c *tokenCache) len() int { return len(*c.m.Load()) }

// load replaces the whole cache.
func (c *tokenCache) load(recs []store.Record) {
	m := make(map[string]*tokenEntry, len(recs))
	for _, r := range recs {
		m[r.Hash] = c.build(r)
	}
	c.mu.Lock()
	c.m.Store(&m)
	c.mu.Unlock()
}

// apply folds one committed change into the cache.
func (c *tokenCache) apply(ch store.Change) {
	var e *tokenEntry
	if !ch.Deleted && ch.Record != nil {
		e = c.build(*ch.Record) // outside the lock: may compile rules
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.m.Load()
	m := make(map[string]*tokenEntry, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if e == nil {
		delete(m, ch.Hash)
	} else {
		m[ch.Hash] = e
	}
	c.m.Store(&m)
	if c.log.IsDebug() {
		c.log.Debug("token change applied", "token", shortHash(ch.Hash), "deleted", ch.Deleted, "revision", ch.Revision)
	}
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
