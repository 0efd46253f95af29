package pginbox_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/central/inboxtest"
	"github.com/tokenomics-dev/tokenomics/central/pginbox"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, dsn string) *pginbox.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return pginbox.New(s.Pool(), 0)
}

// TestConformancePostgresInbox runs the suite the bbolt inbox passes
// (central TestBoltEventStore).
func TestConformancePostgresInbox(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T) central.EventStore { return open(t, pgtest.FreshDSN(t)) })
}

// TestInboxAcrossReplicas: an event one replica received is listed by the
// other.
func TestInboxAcrossReplicas(t *testing.T) {
	dsn := pgtest.FreshDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := context.Background()
	e := events.Event{ID: events.NewID(), Type: events.RuleViolation}
	seq, err := a.Append(ctx, e, time.Now())
	require.NoError(t, err)
	got, err := b.List(ctx, central.EventQuery{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, seq, got[0].Seq)
	require.Equal(t, e.ID, got[0].Event.ID)
}

// TestInboxSameEventOnTwoReplicas: one event delivered to both replicas
// (a retry after a lost acknowledgement) is listed once.
func TestInboxSameEventOnTwoReplicas(t *testing.T) {
	dsn := pgtest.FreshDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := context.Background()
	e := events.Event{ID: events.NewID(), Type: events.RuleViolation}
	s1, err := a.Append(ctx, e, time.Now())
	require.NoError(t, err)
	s2, err := b.Append(ctx, e, time.Now())
	require.NoError(t, err)
	require.Equal(t, s1, s2)
	got, err := a.List(ctx, central.EventQuery{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	other, err := b.Append(ctx, events.Event{ID: events.NewID(), Type: events.RuleViolation}, time.Now())
	require.NoError(t, err)
	require.Greater(t, other, s1)
}
