package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

func testHash(i int) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(i)))
	return hex.EncodeToString(sum[:])
}

func testCache() *tokenCache {
	return newTokenCache(func(r store.Record) *tokenEntry { return &tokenEntry{hash: r.Hash} }, hclog.NewNullLogger())
}

func upserts(from, n int) []store.Change {
	cs := make([]store.Change, n)
	for i := range cs {
		h := testHash(from + i)
		cs[i] = store.Change{Revision: uint64(from + i + 1), Hash: h, Record: &store.Record{Hash: h, Policy: []byte(`{}`)}}
	}
	return cs
}

// TestTokenCacheBatch: a batch lands with one swap; a reader holding the
// old set never sees it change; deletions remove exactly their tokens.
func TestTokenCacheBatch(t *testing.T) {
	t.Parallel()
	c := testCache()
	c.load(nil)
	c.apply(upserts(0, 10_000))
	require.Equal(t, 10_000, c.len())
	before := c.set.Load()

	c.apply([]store.Change{{Revision: 10_001, Hash: testHash(42), Deleted: true}})
	require.Nil(t, c.get([]byte(testHash(42))))
	require.NotNil(t, c.get([]byte(testHash(43))))
	require.Equal(t, 9_999, c.len())
	// The old set is untouched: requests in flight keep a consistent view.
	require.NotNil(t, before[shardOf(testHash(42))][testHash(42)])

	c.load([]store.Record{{Hash: testHash(1)}})
	require.Equal(t, 1, c.len())
	require.NotNil(t, c.get([]byte(testHash(1))))
	require.Nil(t, c.get([]byte("x")))
}

func TestTokenCacheGetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	c := testCache()
	c.apply(upserts(0, 100))
	key := []byte(testHash(7))
	allocs := testing.AllocsPerRun(1000, func() {
		if c.get(key) == nil {
			t.Fatal("missing")
		}
	})
	require.Zero(t, allocs)
}

// BenchmarkTokenCacheApply10k is one sync of 10,000 changes.
func BenchmarkTokenCacheApply10k(b *testing.B) {
	cs := upserts(0, 10_000)
	for b.Loop() {
		c := testCache()
		c.apply(cs)
	}
}

// BenchmarkTokenCacheApplyOne is one change on a cache of 10,000 tokens:
// it copies one shard, not the map.
func BenchmarkTokenCacheApplyOne(b *testing.B) {
	c := testCache()
	c.apply(upserts(0, 10_000))
	del := []store.Change{{Revision: 20_000, Hash: testHash(5), Deleted: true}}
	for b.Loop() {
		c.apply(del)
	}
}

// BenchmarkSyncApply10k is one pull of 10,000 new tokens as a proxy takes
// it: one store.Apply transaction on a real bbolt file, then the proxy's
// cache builds every entry (policy parsed and resolved) and swaps once.
func BenchmarkSyncApply10k(b *testing.B) {
	cfg := &config.Config{Providers: []config.Provider{{Name: "openai", UpstreamURL: "http://127.0.0.1:1",
		APIKeyEnv: "OPENAI_API_KEY", Models: []string{"gpt-4o", "gpt-4o-mini"}}}}
	cfg.SetDefaults()
	db, err := store.Open(filepath.Join(b.TempDir(), "tokens.db"),
		store.Options{HashKey: []byte("bench-hash-key-0123456789abcdef0123"), LockTimeout: time.Second})
	require.NoError(b, err)
	defer db.Close()
	lim, err := limits.NewMemory(limits.MemoryOptions{})
	require.NoError(b, err)
	defer lim.Close()
	s, err := New(Options{Config: cfg, Tokens: db, Hasher: db.Hasher(), Limiter: lim, Getenv: func(string) string { return "k" }})
	require.NoError(b, err)
	policy := []byte(`{"model_regex":"^gpt-4o","max_tokens":100000,"rate_limit":{"requests_per_minute":60}}`)
	rev := uint64(0)
	for b.Loop() {
		cs := make([]store.Change, 10_000)
		for i := range cs {
			rev++
			h := testHash(int(rev))
			cs[i] = store.Change{Revision: rev, Hash: h, Record: &store.Record{Hash: h, Policy: policy}}
		}
		require.NoError(b, db.Apply(cs, rev))
	}
	require.GreaterOrEqual(b, s.Tokens(), 10_000)
}

// TestTokenCacheLoadReplaysRacingChanges: a revocation applied by a sync
// while the proxy lists its tokens at start is not undone by the listing.
func TestTokenCacheLoadReplaysRacingChanges(t *testing.T) {
	t.Parallel()
	c := testCache()
	c.beginLoad()
	revoked, kept, added := testHash(1), testHash(2), testHash(3)
	// The sync deletes one token and adds another after the listing was
	// taken; the listing still holds the deleted one.
	c.apply([]store.Change{{Revision: 5, Hash: revoked, Deleted: true}})
	c.apply(upserts(3, 1))
	require.Nil(t, c.get([]byte(added)), "changes wait for the listing")
	c.load([]store.Record{{Hash: revoked}, {Hash: kept}})
	require.Nil(t, c.get([]byte(revoked)), "a revocation that raced the listing must stay applied")
	require.NotNil(t, c.get([]byte(kept)))
	require.NotNil(t, c.get([]byte(added)))
	c.apply([]store.Change{{Revision: 7, Hash: kept, Deleted: true}})
	require.Nil(t, c.get([]byte(kept)), "after load, changes apply at once")
}
