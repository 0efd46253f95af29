package rollup

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/pricing"
)

// TestUsageCountsNeverWrap: rows near MaxInt64 must not sum to a negative
// stored count (a negative spend in the fleet's report): Check refuses
// counts out of range, and sums saturate.
func TestUsageCountsNeverWrap(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "u.db"), 0o600, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	st, err := NewBoltStore(db, "usage")
	require.NoError(t, err)
	minute := time.Now().Unix() / 60 * 60
	row := Row{Key: Key{Token: "h", Model: "gpt-4o", Provider: "openai", Minute: minute},
		Counts: Counts{Requests: 1, CostMicros: math.MaxInt64, InputTokens: math.MaxInt64}}
	for i, id := range []string{"a-1", "a-2"} {
		b := &Batch{ID: id, Instance: "a", Seq: uint64(i + 1), Created: time.Now(), Rows: []Row{row}}
		if err := b.Check(); err != nil {
			return // refused: sound
		}
		_, err := st.Add(context.Background(), b)
		require.NoError(t, err)
	}
	rows, err := st.Query(context.Background(), time.Unix(minute-60, 0))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.GreaterOrEqual(t, rows[0].CostMicros, int64(0), "stored cost wrapped negative")
	assert.GreaterOrEqual(t, rows[0].InputTokens, int64(0), "stored tokens wrapped negative")
}

func TestBatchCheckBounds(t *testing.T) {
	minute := time.Now().Unix() / 60 * 60
	key := Key{Token: "h", Model: "m", Provider: "p", Minute: minute}
	for _, tc := range []struct {
		name string
		c    Counts
		ok   bool
	}{
		{"at the bounds", Counts{Requests: MaxRowCount, InputTokens: MaxRowCount, OutputTokens: MaxRowCount, CostMicros: pricing.MaxCost}, true},
		{"requests above", Counts{Requests: MaxRowCount + 1}, false},
		{"input above", Counts{InputTokens: MaxRowCount + 1}, false},
		{"cached above", Counts{CachedInputTokens: math.MaxInt64}, false},
		{"output above", Counts{OutputTokens: math.MaxInt64}, false},
		{"reasoning above", Counts{ReasoningTokens: MaxRowCount + 1}, false},
		{"cost above", Counts{CostMicros: pricing.MaxCost + 1}, false},
		{"refusals above", Counts{Refusals: map[string]int64{"rate_limit_exceeded": MaxRowCount + 1}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &Batch{ID: "a-1", Instance: "a", Seq: 1, Rows: []Row{{Key: key, Counts: tc.c}}}
			err := b.Check()
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrBadBatch)
			}
		})
	}
}

func TestCountsAddSaturates(t *testing.T) {
	c := Counts{CostMicros: math.MaxInt64 - 1, Refusals: map[string]int64{"x": math.MaxInt64}}
	c.Add(&Counts{CostMicros: 5, InputTokens: 3, Refusals: map[string]int64{"x": 1, "y": 2}})
	assert.Equal(t, int64(math.MaxInt64), c.CostMicros)
	assert.Equal(t, int64(3), c.InputTokens)
	assert.Equal(t, int64(math.MaxInt64), c.Refusals["x"])
	assert.Equal(t, int64(math.MaxInt64), c.RefusalTotal())
}
