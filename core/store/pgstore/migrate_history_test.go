package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
)

// TestRememberBatches: ids remembered from another store make a batch
// sent again under one of them a no-op, and remembering twice is harmless.
func TestRememberBatches(t *testing.T) {
	s := openPG(t, pgtest.FreshDSN(t), nil)
	ctx := context.Background()
	u := s.Usage()
	ids := []rollup.BatchID{{ID: "px-1-a", StoredAt: time.Now().Unix()}, {ID: "px-1-b", StoredAt: time.Now().Unix()}}
	require.NoError(t, u.RememberBatches(ctx, ids))
	require.NoError(t, u.RememberBatches(ctx, ids), "again: no error, no change")
	row := rollup.Row{Key: rollup.Key{Minute: time.Now().Unix() / 60 * 60, Token: "t", Model: "m", Provider: "p"},
		Counts: rollup.Counts{Requests: 1}}
	fresh, err := u.Add(ctx, &rollup.Batch{ID: "px-1-a", Rows: []rollup.Row{row}})
	require.NoError(t, err)
	assert.False(t, fresh, "a remembered id is taken")
	fresh, err = u.Add(ctx, &rollup.Batch{ID: "px-1-c", Rows: []rollup.Row{row}})
	require.NoError(t, err)
	assert.True(t, fresh)
	rows, err := u.Query(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.EqualValues(t, 1, rows[0].Requests)
}

// TestAuditImportOnlyIntoEmpty: the audit log is imported once, in order,
// and a second import (or one into a log replicas wrote) changes nothing.
func TestAuditImportOnlyIntoEmpty(t *testing.T) {
	s := openPG(t, pgtest.FreshDSN(t), nil)
	ctx := context.Background()
	a := s.AuditLog()
	done, err := a.Import(ctx, [][]byte{[]byte(`{"n":1}`), []byte(`{"n":2}`)})
	require.NoError(t, err)
	assert.True(t, done)
	done, err = a.Import(ctx, [][]byte{[]byte(`{"n":1}`), []byte(`{"n":2}`)})
	require.NoError(t, err)
	assert.False(t, done, "not into a log holding entries")
	got, err := a.Recent(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte(`{"n":2}`), []byte(`{"n":1}`)}, got, "newest first, once")
}
