package syncer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// TestPersistFailureRevokesInMemory: when the proxy's file refuses writes
// (here: a write hook that fails like a full disk), a pull still hands its deletions to the
// subscribers, NotReady names the failure, and a later good write clears it.
func TestPersistFailureRevokesInMemory(t *testing.T) {
	t.Parallel()
	c := newCentral(t)
	victim := c.create(t, `{"model":"gpt-4o"}`)
	keeper := c.create(t, `{"model":"gpt-4o"}`)

	db := openStore(t, "")
	s, err := New(Options{Store: db, Tokens: c.client})
	require.NoError(t, err)
	require.NoError(t, s.Sync(context.Background()))
	require.Empty(t, s.NotReady())

	// Every write now fails inside its transaction, as on a full disk.
	diskFull := errors.New("write tokens.db: no space left on device")
	db.OnWrite(func(*bbolt.Tx, []store.Change) error { return diskFull })
	var revoked []string
	cancel := db.SubscribeBatch(func(cs []store.Change) {
		for _, ch := range cs {
			if ch.Deleted {
				revoked = append(revoked, ch.Hash)
			}
		}
	})
	defer cancel()

	c.delete(t, victim.Record.Hash)
	soon := time.Now().Add(time.Hour)
	_, err = c.svc.Update(context.Background(), keeper.Record.Hash, tokenapi.UpdateRequest{ExpiresAt: &soon})
	require.NoError(t, err)
	var expiries []store.Change
	cancelExp := db.SubscribeBatch(func(cs []store.Change) {
		for _, ch := range cs {
			if !ch.Deleted {
				expiries = append(expiries, ch)
			}
		}
	})
	defer cancelExp()
	err = s.Sync(context.Background())
	var perr *PersistError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, []string{victim.Record.Hash}, revoked, "the deletion reached memory")
	assert.NotContains(t, revoked, keeper.Record.Hash)
	require.Len(t, expiries, 1, "the new expiry of a held token reached memory")
	assert.Equal(t, keeper.Record.Hash, expiries[0].Hash)
	assert.WithinDuration(t, soon, *expiries[0].Record.ExpiresAt, time.Second)
	assert.Contains(t, s.NotReady(), "cannot persist synced tokens")
	assert.Equal(t, int64(1), s.fails.Load())
	_, err = db.Get(victim.Record.Hash)
	require.NoError(t, err, "nothing was written")

	// The disk has room again: the next pull persists and clears it.
	db.OnWrite(nil)
	require.NoError(t, s.Sync(context.Background()))
	assert.Empty(t, s.NotReady())
	_, err = db.Get(victim.Record.Hash)
	require.ErrorIs(t, err, store.ErrNotFound)
}
