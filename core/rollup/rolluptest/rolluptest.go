// Package rolluptest is the conformance suite every rollup.Store passes:
// the bbolt store and the PostgreSQL one run the same cases.
package rolluptest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/rollup"
)

// T0 is the suite's reference time.
var T0 = time.Date(2026, 12, 7, 10, 0, 30, 0, time.UTC)

// Opener gives a test an empty store, closed when the test ends.
type Opener func(t *testing.T) rollup.Store

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	t.Run("Idempotent", func(t *testing.T) { idempotent(t, open(t)) })
	t.Run("KeysAndOrder", func(t *testing.T) { keysAndOrder(t, open(t)) })
	t.Run("ConcurrentSameID", func(t *testing.T) { concurrentSameID(t, open(t)) })
	t.Run("PruneForgetsIDs", func(t *testing.T) { pruneForgetsIDs(t, open(t)) })
}

func row(token, model string, minute int64, req int64, refusals map[string]int64) rollup.Row {
	return rollup.Row{Key: rollup.Key{Token: token, Model: model, Provider: "openai", Minute: minute},
		Counts: rollup.Counts{Requests: req, InputTokens: 10 * req, CachedInputTokens: req, OutputTokens: 2 * req,
			ReasoningTokens: 3 * req, CostMicros: 7 * req, Refusals: refusals}}
}

func idempotent(t *testing.T, s rollup.Store) {
	ctx := context.Background()
	m := T0.Unix() - 30
	b := &rollup.Batch{ID: "px1-a-1", Rows: []rollup.Row{row("h", "gpt-4o", m, 1, map[string]int64{"r": 1})}}
	for i, want := range []bool{true, false, false} {
		fresh, err := s.Add(ctx, b)
		require.NoError(t, err)
		require.Equal(t, want, fresh, "add %d", i)
	}
	fresh, err := s.Add(ctx, &rollup.Batch{ID: "px2-a-1", Rows: b.Rows})
	require.NoError(t, err)
	require.True(t, fresh)
	rows, err := s.Query(ctx, T0.Add(-time.Hour))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	want := row("h", "gpt-4o", m, 2, map[string]int64{"r": 2})
	require.Equal(t, want, rows[0])
	rows, err = s.Query(ctx, T0.Add(time.Minute))
	require.NoError(t, err)
	require.Empty(t, rows)

	n, err := s.Prune(ctx, T0.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	rows, err = s.Query(ctx, time.Time{})
	require.NoError(t, err)
	require.Empty(t, rows)
}

// keysAndOrder: rows come back in key order (minute, token, model,
// provider, bytewise), each key summed separately, since inclusive of its
// minute.
func keysAndOrder(t *testing.T, s rollup.Store) {
	ctx := context.Background()
	m := T0.Unix() - 30
	_, err := s.Add(ctx, &rollup.Batch{ID: "b1", Rows: []rollup.Row{
		row("b", "m", m+60, 1, nil), row("a", "m", m+60, 1, nil), row("Z", "m", m, 1, map[string]int64{"x": 1, "y": 2}),
		row("a", "m2", m+60, 4, nil),
	}})
	require.NoError(t, err)
	_, err = s.Add(ctx, &rollup.Batch{ID: "b2", Rows: []rollup.Row{row("a", "m", m+60, 2, map[string]int64{"x": 5})}})
	require.NoError(t, err)
	rows, err := s.Query(ctx, time.Unix(m, 0))
	require.NoError(t, err)
	require.Equal(t, []rollup.Row{
		row("Z", "m", m, 1, map[string]int64{"x": 1, "y": 2}),
		row("a", "m", m+60, 3, map[string]int64{"x": 5}),
		row("a", "m2", m+60, 4, nil),
		row("b", "m", m+60, 1, nil),
	}, rows)
	rows, err = s.Query(ctx, time.Unix(m+61, 0)) // within the second minute: that minute is included
	require.NoError(t, err)
	require.Len(t, rows, 3)
	n, err := s.Prune(ctx, time.Unix(m+60, 0))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	rows, err = s.Query(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, rows, 3)
}

// concurrentSameID: the same batch sent at once on many connections (as
// to several replicas) is counted once.
func concurrentSameID(t *testing.T, s rollup.Store) {
	ctx := context.Background()
	m := T0.Unix() - 30
	const senders = 8
	var wg sync.WaitGroup
	fresh := make(chan bool, senders)
	for i := 0; i < senders; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows := make([]rollup.Row, 0, 20)
			for j := 0; j < 20; j++ {
				rows = append(rows, row(fmt.Sprint("t", j), "m", m, 1, map[string]int64{"r": 1}))
			}
			ok, err := s.Add(ctx, &rollup.Batch{ID: "same", Rows: rows})
			if err != nil {
				t.Error(err)
			}
			fresh <- ok
		}()
	}
	wg.Wait()
	close(fresh)
	n := 0
	for ok := range fresh {
		if ok {
			n++
		}
	}
	require.Equal(t, 1, n, "exactly one sender stores the batch")
	rows, err := s.Query(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, rows, 20)
	for _, r := range rows {
		require.EqualValues(t, 1, r.Requests)
		require.EqualValues(t, 1, r.Refusals["r"])
	}
}

// pruneForgetsIDs: ids stored before the cut are forgotten, so a batch
// that old would count again; newer ids are still remembered.
func pruneForgetsIDs(t *testing.T, s rollup.Store) {
	ctx := context.Background()
	m := T0.Unix() - 30
	b := &rollup.Batch{ID: "old", Rows: []rollup.Row{row("h", "m", m, 1, nil)}}
	_, err := s.Add(ctx, b)
	require.NoError(t, err)
	_, err = s.Prune(ctx, time.Now().Add(-time.Hour)) // the id was stored now: kept
	require.NoError(t, err)
	fresh, err := s.Add(ctx, b)
	require.NoError(t, err)
	require.False(t, fresh)
	_, err = s.Prune(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	fresh, err = s.Add(ctx, b)
	require.NoError(t, err)
	require.True(t, fresh)
}
