package syncer

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

func newSyncer(t *testing.T, o Options) *Syncer {
	t.Helper()
	s, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func hashes(t *testing.T, db *store.DB) []string {
	t.Helper()
	recs, err := db.List()
	require.NoError(t, err)
	var out []string
	for _, r := range recs {
		out = append(out, r.Hash)
	}
	return out
}

func TestNewNeedsStoreAndFeed(t *testing.T) {
	t.Parallel()
	_, err := New(Options{})
	require.ErrorIs(t, err, ErrNoStore)
}

func TestSyncAppliesChanges(t *testing.T) {
	t.Parallel()
	c := newCentral(t)
	a := c.create(t, `{"max_tokens":1}`)
	b := c.create(t, `{"max_tokens":2}`)
	proxy := openStore(t, "")
	var mu sync.Mutex
	var seen []store.Change
	cancel := proxy.Subscribe(func(ch store.Change) {
		mu.Lock()
		seen = append(seen, ch)
		mu.Unlock()
	})
	defer cancel()
	s := newSyncer(t, Options{Store: proxy, Tokens: c.client})
	assert.False(t, s.Ready(), "an empty proxy is not ready before its first pull")

	require.NoError(t, s.Sync(context.Background()))
	assert.True(t, s.Ready())
	assert.ElementsMatch(t, []string{a.Record.Hash, b.Record.Hash}, hashes(t, proxy))
	assert.Equal(t, c.db.Revision(), proxy.Revision())

	c.delete(t, a.Record.Hash)
	upd, err := c.svc.Update(context.Background(), b.Record.Hash, tokenapi.UpdateRequest{Policy: []byte(`{"max_tokens":3}`), Replace: true})
	require.NoError(t, err)
	require.NoError(t, s.Sync(context.Background()))
	assert.Equal(t, []string{b.Record.Hash}, hashes(t, proxy))
	got, err := proxy.Get(b.Record.Hash)
	require.NoError(t, err)
	assert.JSONEq(t, `{"max_tokens":3}`, string(got.Policy))
	assert.Equal(t, upd.Revision, got.Revision)
	assert.Equal(t, c.db.Revision(), proxy.Revision())

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 4, "two upserts, one deletion, one update reach subscribers")
	assert.True(t, seen[2].Deleted || seen[3].Deleted)

	// Nothing new: no write, no notification.
	require.NoError(t, s.Sync(context.Background()))
	assert.Len(t, seen, 4)
}

func TestResyncWhenFeedCannotContinue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		breakIt func(t *testing.T, c *central) *central
	}{
		{name: "central restored from an older backup", breakIt: func(t *testing.T, _ *central) *central {
			fresh := newCentral(t)
			fresh.create(t, `{"restored":true}`)
			return fresh
		}},
		{name: "central pruned the tombstones the proxy needs", breakIt: func(t *testing.T, c *central) *central {
			victim := c.create(t, `{"victim":true}`)
			c.delete(t, victim.Record.Hash)
			c.create(t, `{"after":true}`)
			_, err := c.db.Compact(time.Now().Add(365 * 24 * time.Hour))
			require.NoError(t, err)
			return c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCentral(t)
			for range 3 {
				c.create(t, `{"old":true}`)
			}
			proxy := openStore(t, "")
			f := &feed{inner: c.client}
			s := newSyncer(t, Options{Store: proxy, Tokens: f})
			require.NoError(t, s.Sync(context.Background()))
			require.Len(t, hashes(t, proxy), 3)

			now := tc.breakIt(t, c)
			f.inner = now.client
			require.NoError(t, s.Sync(context.Background()))
			want := hashes(t, now.db)
			assert.ElementsMatch(t, want, hashes(t, proxy), "the proxy holds exactly the central's live tokens")
			assert.Equal(t, now.db.Revision(), proxy.Revision())
		})
	}
}

func TestPollCatchesUp(t *testing.T) {
	t.Parallel()
	c := newCentral(t)
	proxy := openStore(t, "")
	s := newSyncer(t, Options{Store: proxy, Tokens: c.client, Interval: 20 * time.Millisecond})
	s.Start(time.Second)
	tok := c.create(t, `{"late":true}`)
	require.Eventually(t, func() bool {
		_, err := proxy.Get(tok.Record.Hash)
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	c.delete(t, tok.Record.Hash)
	require.Eventually(t, func() bool {
		_, err := proxy.Get(tok.Record.Hash)
		return err != nil
	}, 5*time.Second, 10*time.Millisecond)
}

func TestUnreachableAtStart(t *testing.T) {
	t.Parallel()
	c := newCentral(t)
	tok := c.create(t, `{"kept":true}`)
	path := filepath.Join(t.TempDir(), "proxy.db")

	// First life: synced once, then stopped.
	first, err := store.Open(path, store.Options{HashKey: testHashKey})
	require.NoError(t, err)
	s1, err := New(Options{Store: first, Tokens: c.client})
	require.NoError(t, err)
	require.NoError(t, s1.Sync(context.Background()))
	require.NoError(t, first.Close())

	// Second life: the central server is down.
	proxy := openStore(t, path)
	f := &feed{inner: c.client}
	f.down.Store(true)
	s := newSyncer(t, Options{Store: proxy, Tokens: f, Interval: time.Hour, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	assert.True(t, s.Ready(), "a synced copy on disk is ready at once")
	start := time.Now()
	s.Start(2 * time.Second)
	assert.Less(t, time.Since(start), 2*time.Second, "Start does not wait past its bound for a refused connection")
	_, err = proxy.Get(tok.Record.Hash)
	require.NoError(t, err, "the local copy still serves")

	// A revocation while it was down applies once the server is back,
	// through the backoff retries, long before the one-hour poll.
	c.delete(t, tok.Record.Hash)
	f.down.Store(false)
	require.Eventually(t, func() bool {
		_, err := proxy.Get(tok.Record.Hash)
		return err != nil
	}, 5*time.Second, 10*time.Millisecond)
	assert.GreaterOrEqual(t, f.calls.Load(), int64(2))

	// A fresh proxy with nothing on disk is not ready until a pull works.
	empty := openStore(t, "")
	down := &feed{inner: c.client}
	down.down.Store(true)
	s3 := newSyncer(t, Options{Store: empty, Tokens: down, MinBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond})
	s3.Start(time.Second)
	assert.False(t, s3.Ready())
	down.down.Store(false)
	require.Eventually(t, s3.Ready, 5*time.Second, 10*time.Millisecond)
}

// TestTriggersCoalesce: pushes that arrive during a pull cause exactly one
// more pull, and that pull sees the change the last push announced.
func TestTriggersCoalesce(t *testing.T) {
	t.Parallel()
	c := newCentral(t)
	c.create(t, `{"first":true}`)
	proxy := openStore(t, "")
	f := &feed{inner: c.client}
	s := newSyncer(t, Options{Store: proxy, Tokens: f, Interval: time.Hour})
	s.Start(time.Second) // pull 1 (full fetch)
	require.Equal(t, int64(1), f.calls.Load())

	gate := f.holdCall(2)
	s.Trigger() // pull 2 starts and is held after reading the feed
	require.Eventually(t, func() bool { return f.calls.Load() == 2 }, 5*time.Second, time.Millisecond)
	late := c.create(t, `{"late":true}`)
	for range 10 {
		s.Trigger()
	}
	close(gate)

	require.Eventually(t, func() bool {
		_, err := proxy.Get(late.Record.Hash)
		return err == nil
	}, 5*time.Second, time.Millisecond, "the change behind the last push arrived")
	time.Sleep(100 * time.Millisecond) // let any extra pull show itself
	assert.Equal(t, int64(3), f.calls.Load(), "ten pushes during one pull cost one more pull")
}
