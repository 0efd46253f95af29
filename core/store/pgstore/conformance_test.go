package pgstore_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/rollup/rolluptest"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openPG(t *testing.T, dsn string, enc []byte) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey, EncryptionKey: enc})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformancePostgres(t *testing.T) {
	for _, enc := range []struct {
		name string
		key  []byte
	}{{"plain", nil}, {"sealed", []byte("0123456789abcdef0123456789abcdef")}} {
		t.Run(enc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Backend { return openPG(t, pgtest.FreshDSN(t), enc.key) })
		})
	}
}

func TestConformancePostgresPlugins(t *testing.T) {
	storetest.RunPlugins(t, func(t *testing.T) store.PluginStore { return openPG(t, pgtest.FreshDSN(t), nil) })
}

// TestConformancePostgresUsage runs the rollup.Store suite the bbolt store
// passes (core/rollup TestBoltStoreConformance).
func TestConformancePostgresUsage(t *testing.T) {
	rolluptest.Run(t, func(t *testing.T) rollup.Store { return openPG(t, pgtest.FreshDSN(t), nil).Usage() })
}

// TestUsageAcrossReplicas: two stores on one database (two replicas) see
// each other's batches, and a batch id one stored is not counted by the
// other.
func TestUsageAcrossReplicas(t *testing.T) {
	dsn := pgtest.FreshDSN(t)
	a, b := openPG(t, dsn, nil).Usage(), openPG(t, dsn, nil).Usage()
	ctx := context.Background()
	batch := &rollup.Batch{ID: "px-1", Rows: []rollup.Row{{Key: rollup.Key{Token: "h", Model: "m", Provider: "p", Minute: 1_800_000_000},
		Counts: rollup.Counts{Requests: 3, CostMicros: 9}}}}
	fresh, err := a.Add(ctx, batch)
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = b.Add(ctx, batch)
	require.NoError(t, err)
	require.False(t, fresh, "replica B must not count a batch replica A stored")
	rows, err := b.Query(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.EqualValues(t, 3, rows[0].Requests)
	require.EqualValues(t, 9, rows[0].CostMicros)
}
