package events

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplayCache(t *testing.T) {
	t.Parallel()
	t0 := testNow
	type step struct {
		id      string
		expires time.Duration // from t0
		at      time.Duration // now, from t0
		wantNew bool
	}
	tests := []struct {
		name    string
		size    int
		steps   []step
		wantLen int
	}{
		{
			name: "duplicate within window",
			size: 4,
			steps: []step{
				{id: "a", expires: time.Minute, wantNew: true},
				{id: "a", expires: time.Minute, at: 59 * time.Second, wantNew: false},
			},
			wantLen: 1,
		},
		{
			name: "expired id is new again",
			size: 4,
			steps: []step{
				{id: "a", expires: time.Minute, wantNew: true},
				{id: "a", expires: 3 * time.Minute, at: time.Minute, wantNew: false}, // still inside
				{id: "a", expires: 3 * time.Minute, at: time.Minute + time.Nanosecond, wantNew: true},
				{id: "a", expires: 3 * time.Minute, at: 2 * time.Minute, wantNew: false},
			},
			wantLen: 1,
		},
		{
			name: "expired entries are pruned",
			size: 4,
			steps: []step{
				{id: "a", expires: time.Minute, wantNew: true},
				{id: "b", expires: time.Minute, wantNew: true},
				{id: "c", expires: 5 * time.Minute, at: 2 * time.Minute, wantNew: true},
			},
			wantLen: 1,
		},
		{
			name: "bound evicts the entry expiring first",
			size: 2,
			steps: []step{
				{id: "late", expires: 5 * time.Minute, wantNew: true},
				{id: "early", expires: time.Minute, wantNew: true},
				{id: "third", expires: 3 * time.Minute, wantNew: true},
				{id: "late", expires: 5 * time.Minute, wantNew: false},
				{id: "third", expires: 3 * time.Minute, wantNew: false},
				{id: "early", expires: time.Minute, wantNew: true}, // forgotten
			},
			wantLen: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newReplayCache(tc.size)
			for i, s := range tc.steps {
				got := c.add(s.id, t0.Add(s.expires), t0.Add(s.at))
				require.Equal(t, s.wantNew, got, "step %d (%s)", i, s.id)
				require.LessOrEqual(t, c.len(), tc.size)
			}
			assert.Equal(t, tc.wantLen, c.len())
		})
	}
}

func TestReplayCacheBoundUnderLoad(t *testing.T) {
	t.Parallel()
	c := newReplayCache(100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				c.add(fmt.Sprintf("%d-%d", g, i), testNow.Add(time.Hour), testNow)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 100, c.len())
	assert.Len(t, c.order, 100)
}
