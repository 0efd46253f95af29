// Package fleettest is the conformance suite every central.FleetStore
// passes: the in-memory store and the PostgreSQL one run the same cases.
package fleettest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/core/fleet"
)

// Opener gives a test an empty store remembering at most max proxies,
// closed when the test ends.
type Opener func(t *testing.T, max int) central.FleetStore

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) { roundTrip(t, open(t, 0)) })
	t.Run("ReplaceKeepsOne", func(t *testing.T) { replaceKeepsOne(t, open(t, 0)) })
	t.Run("Bounded", func(t *testing.T) { bounded(t, open(t, 2)) })
	t.Run("ConcurrentPuts", func(t *testing.T) { concurrentPuts(t, open(t, 0)) })
}

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func byInstance(t *testing.T, s central.FleetStore) map[string]fleet.Proxy {
	t.Helper()
	list, err := s.List(context.Background())
	require.NoError(t, err)
	out := map[string]fleet.Proxy{}
	for _, p := range list {
		require.NotContains(t, out, p.Instance, "one entry per instance")
		out[p.Instance] = p
	}
	return out
}

// roundTrip: every field of a report and its contact time come back.
func roundTrip(t *testing.T, s central.FleetStore) {
	rep := fleet.Report{Instance: "px-01", Name: "edge-1.example", Version: "1.4.0", Revision: 42, Ready: true,
		Plugins: []fleet.Plugin{
			{Name: "pii", Version: "1.2.0", SHA256: "ab12", Tokens: 3, State: fleet.StateActive},
			{Name: "guard", Version: "2.0.0", SHA256: "cd34", Tokens: 1, State: fleet.StateFailed, Error: "init trapped"},
		}}
	require.NoError(t, s.Put(context.Background(), rep, t0))
	got := byInstance(t, s)
	require.Len(t, got, 1)
	assert.Equal(t, rep, got["px-01"].Report)
	assert.True(t, got["px-01"].LastContact.Equal(t0), "last contact %s, want %s", got["px-01"].LastContact, t0)
	assert.Zero(t, got["px-01"].Lag, "the store leaves the lag to the handler")
}

// replaceKeepsOne: a newer report of an instance replaces the older one.
func replaceKeepsOne(t *testing.T, s central.FleetStore) {
	ctx := context.Background()
	require.NoError(t, s.Put(ctx, fleet.Report{Instance: "a", Revision: 1, Ready: false}, t0))
	require.NoError(t, s.Put(ctx, fleet.Report{Instance: "b", Revision: 1}, t0))
	require.NoError(t, s.Put(ctx, fleet.Report{Instance: "a", Revision: 7, Ready: true}, t0.Add(time.Minute)))
	got := byInstance(t, s)
	require.Len(t, got, 2)
	assert.EqualValues(t, 7, got["a"].Revision)
	assert.True(t, got["a"].Ready)
	assert.True(t, got["a"].LastContact.Equal(t0.Add(time.Minute)))
}

// bounded: when full, the proxy heard from least recently makes room.
func bounded(t *testing.T, s central.FleetStore) {
	ctx := context.Background()
	require.NoError(t, s.Put(ctx, fleet.Report{Instance: "a"}, t0))
	require.NoError(t, s.Put(ctx, fleet.Report{Instance: "b"}, t0.Add(time.Second)))
	require.NoError(t, s.Put(ctx, fleet.Report{Instance: "a"}, t0.Add(2*time.Second))) // a is now the newest
	require.NoError(t, s.Put(ctx, fleet.Report{Instance: "c"}, t0.Add(3*time.Second)))
	got := byInstance(t, s)
	assert.ElementsMatch(t, []string{"a", "c"}, keys(got))
}

// concurrentPuts: heartbeats of many proxies at once all land, one entry
// each, holding the newest report.
func concurrentPuts(t *testing.T, s central.FleetStore) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rev := range 5 {
				rep := fleet.Report{Instance: fmt.Sprintf("px-%02d", i), Revision: uint64(rev)}
				assert.NoError(t, s.Put(ctx, rep, t0.Add(time.Duration(rev)*time.Second)))
			}
		}()
	}
	wg.Wait()
	got := byInstance(t, s)
	require.Len(t, got, 16)
	for id, p := range got {
		assert.EqualValues(t, 4, p.Revision, id)
	}
}

func keys(m map[string]fleet.Proxy) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
