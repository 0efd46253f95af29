package console

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// TestW6rBoltSigninPruneAmortized: every new source's first try used to
// scan (and JSON-decode) every record in the bucket, inside the one bbolt
// write transaction that token changes also wait for. A client with many
// sources (an IPv6 /48 holds 65,536 /64s) made each sign-in cost O(n) and
// the whole flood O(n²): 10,000 sources took about 20 s of CPU on the
// test machine. The prune now runs at most once per refill interval, so
// the records visited stay linear in the sources.
func TestW6rBoltSigninPruneAmortized(t *testing.T) {
	t.Parallel()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "central.db"), 0o600, &bbolt.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	b, err := openBoltSignins(db)
	require.NoError(t, err)
	ctx := context.Background()
	start := time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)
	const sources = 3000
	for i := range sources {
		// 100 new sources a second for 30 s.
		now := start.Add(time.Duration(i) * 10 * time.Millisecond)
		ok, err := b.Take(ctx, fmt.Sprintf("src-%d", i), now, 5, signinRefill)
		require.NoError(t, err)
		require.True(t, ok)
	}
	assert.Less(t, b.visited, int64(4*sources), "records visited by pruning")

	// Pruning still happens: a minute later every record has refilled and
	// the next new source leaves only itself.
	later := start.Add(31*time.Second + time.Minute)
	ok, err := b.Take(ctx, "late", later, 5, signinRefill)
	require.NoError(t, err)
	require.True(t, ok)
	n := 0
	require.NoError(t, db.View(func(tx *bbolt.Tx) error { n = tx.Bucket(bucketSignins).Stats().KeyN; return nil }))
	assert.Equal(t, 1, n, "records left after the prune")

	// A locked-out source stays locked out across prunes.
	for range 5 {
		ok, err := b.Take(ctx, "mallory", later, 5, signinRefill)
		require.NoError(t, err)
		require.True(t, ok)
	}
	for i := range 3 {
		ok, err := b.Take(ctx, fmt.Sprintf("other-%d", i), later.Add(time.Duration(i)*signinRefill), 5, signinRefill)
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, err = b.Take(ctx, "mallory", later.Add(2*signinRefill), 5, signinRefill)
	require.NoError(t, err)
	assert.True(t, ok, "two refills later mallory has two tries back")
	ok, err = b.Take(ctx, "mallory", later.Add(2*signinRefill), 5, signinRefill)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = b.Take(ctx, "mallory", later.Add(2*signinRefill), 5, signinRefill)
	require.NoError(t, err)
	assert.False(t, ok, "and no more")
}
