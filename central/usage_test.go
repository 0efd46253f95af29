package central

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, in string
		want     time.Time
		bad      bool
	}{
		{name: "default", in: "", want: now.Add(-24 * time.Hour)},
		{name: "duration", in: "90m", want: now.Add(-90 * time.Minute)},
		{name: "days", in: "7d", want: now.Add(-7 * 24 * time.Hour)},
		{name: "date", in: "2026-12-01", want: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{name: "rfc3339", in: "2026-12-07T10:00:00Z", want: now.Add(-2 * time.Hour)},
		{name: "negative", in: "-1h", bad: true},
		{name: "junk", in: "yesterday", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSince(tc.in, now)
			if tc.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.True(t, tc.want.Equal(got), "got %s", got)
		})
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"", "24h", "7d", "2026-12-01", "2026-12-07T10:00:00Z", "1.5d", "d", "-3d"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err == nil && got.After(now) && s != "" {
			// Only an absolute time may lie ahead; a duration never does.
			if _, perr := time.Parse(time.RFC3339, s); perr != nil {
				if _, derr := time.Parse(time.DateOnly, s); derr != nil {
					t.Fatalf("%q parsed to %s, after now", s, got)
				}
			}
		}
	})
}

func TestBoltEventStore(t *testing.T) {
	t.Parallel()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "e.db"), 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	defer db.Close()
	s, err := NewBoltEventStore(db)
	require.NoError(t, err)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for i, typ := range []string{events.RuleViolation, events.RequestCompleted, events.RuleMasked, events.BudgetExceeded} {
		seq, err := s.Append(ctx, events.Event{ID: events.NewID(), Type: typ}, t0.Add(time.Duration(i)*time.Hour))
		require.NoError(t, err)
		require.EqualValues(t, i+1, seq)
	}
	tests := []struct {
		name string
		q    EventQuery
		want []uint64
	}{
		{name: "all", q: EventQuery{}, want: []uint64{1, 2, 3, 4}},
		{name: "after", q: EventQuery{After: 2}, want: []uint64{3, 4}},
		{name: "pattern", q: EventQuery{Types: []string{"rule.*"}}, want: []uint64{1, 3}},
		{name: "since", q: EventQuery{Since: t0.Add(90 * time.Minute)}, want: []uint64{3, 4}},
		{name: "limit", q: EventQuery{Limit: 1, After: 1}, want: []uint64{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(ctx, tc.q)
			require.NoError(t, err)
			var seqs []uint64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			require.Equal(t, tc.want, seqs)
		})
	}
	n, err := s.Prune(ctx, t0.Add(150*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	got, err := s.List(ctx, EventQuery{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.EqualValues(t, 4, got[0].Seq)
	seq, err := s.Append(ctx, events.Event{ID: events.NewID(), Type: events.ServerStart}, t0)
	require.NoError(t, err)
	require.EqualValues(t, 5, seq, "sequence numbers never go back after a prune")
}
