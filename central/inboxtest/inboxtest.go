// Package inboxtest is the conformance suite every central.EventStore
// passes: the bbolt inbox and the PostgreSQL one run the same cases.
package inboxtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/core/events"
)

// Opener gives a test an empty store, closed when the test ends.
type Opener func(t *testing.T) central.EventStore

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	t.Run("QueryAndPrune", func(t *testing.T) { queryAndPrune(t, open(t)) })
	t.Run("LimitAfterFilter", func(t *testing.T) { limitAfterFilter(t, open(t)) })
	t.Run("ConcurrentAppends", func(t *testing.T) { concurrentAppends(t, open(t)) })
}

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func seqs(es []central.StoredEvent) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

func queryAndPrune(t *testing.T, s central.EventStore) {
	ctx := context.Background()
	var first events.Event
	for i, typ := range []string{events.RuleViolation, events.RequestCompleted, events.RuleMasked, events.BudgetExceeded} {
		e := events.Event{ID: events.NewID(), Type: typ}
		if i == 0 {
			first = e
		}
		seq, err := s.Append(ctx, e, t0.Add(time.Duration(i)*time.Hour))
		require.NoError(t, err)
		require.EqualValues(t, i+1, seq)
	}
	tests := []struct {
		name string
		q    central.EventQuery
		want []uint64
	}{
		{name: "all", q: central.EventQuery{}, want: []uint64{1, 2, 3, 4}},
		{name: "after", q: central.EventQuery{After: 2}, want: []uint64{3, 4}},
		{name: "pattern", q: central.EventQuery{Types: []string{"rule.*"}}, want: []uint64{1, 3}},
		{name: "since", q: central.EventQuery{Since: t0.Add(90 * time.Minute)}, want: []uint64{3, 4}},
		{name: "limit", q: central.EventQuery{Limit: 1, After: 1}, want: []uint64{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(ctx, tc.q)
			require.NoError(t, err)
			require.Equal(t, tc.want, seqs(got))
		})
	}
	got, err := s.List(ctx, central.EventQuery{Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, first.ID, got[0].Event.ID)
	require.Equal(t, first.Type, got[0].Event.Type)
	require.True(t, got[0].Received.Equal(t0), "received %v", got[0].Received)

	n, err := s.Prune(ctx, t0.Add(150*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	got, err = s.List(ctx, central.EventQuery{})
	require.NoError(t, err)
	require.Equal(t, []uint64{4}, seqs(got))
	seq, err := s.Append(ctx, events.Event{ID: events.NewID(), Type: events.ServerStart}, t0)
	require.NoError(t, err)
	require.EqualValues(t, 5, seq, "sequence numbers never go back after a prune")
}

// limitAfterFilter: the limit counts matching events, however many
// others lie between them.
func limitAfterFilter(t *testing.T, s central.EventStore) {
	ctx := context.Background()
	for i := 0; i < 1500; i++ {
		typ := events.RequestCompleted
		if i%700 == 0 {
			typ = events.RuleViolation
		}
		_, err := s.Append(ctx, events.Event{ID: events.NewID(), Type: typ}, t0)
		require.NoError(t, err)
	}
	got, err := s.List(ctx, central.EventQuery{Types: []string{"rule.*"}, Limit: 3})
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 701, 1401}, seqs(got))
}

// concurrentAppends: every append gets its own, distinct sequence number.
func concurrentAppends(t *testing.T, s central.EventStore) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if _, err := s.Append(ctx, events.Event{ID: events.NewID(), Type: events.RuleMasked}, t0); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got, err := s.List(ctx, central.EventQuery{})
	require.NoError(t, err)
	require.Len(t, got, 80)
	for i := 1; i < len(got); i++ {
		require.Greater(t, got[i].Seq, got[i-1].Seq)
	}
}
