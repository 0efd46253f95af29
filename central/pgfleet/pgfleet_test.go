package pgfleet_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/central/fleettest"
	"github.com/tokenomics-dev/tokenomics/central/pgfleet"
	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, dsn string, max int) *pgfleet.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return pgfleet.New(s.Pool(), 0, max)
}

// TestConformancePostgresFleet runs the suite the in-memory store passes
// (central TestMemoryFleetConformance).
func TestConformancePostgresFleet(t *testing.T) {
	fleettest.Run(t, func(t *testing.T, max int) central.FleetStore { return open(t, pgtest.FreshDSN(t), max) })
}

// TestFleetAcrossReplicas: a report one replica received is listed by the
// other, and a later heartbeat through the other replaces it.
func TestFleetAcrossReplicas(t *testing.T) {
	dsn := pgtest.FreshDSN(t)
	a, b := open(t, dsn, 0), open(t, dsn, 0)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	require.NoError(t, a.Put(ctx, fleet.Report{Instance: "px-1", Name: "edge", Revision: 3}, now))
	list, err := b.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.EqualValues(t, 3, list[0].Revision)
	require.NoError(t, b.Put(ctx, fleet.Report{Instance: "px-1", Name: "edge", Revision: 4}, now.Add(time.Second)))
	list, err = a.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.EqualValues(t, 4, list[0].Revision)
	assert.True(t, list[0].LastContact.Equal(now.Add(time.Second)))
}
