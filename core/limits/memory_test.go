package limits

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// budgetRace runs goroutines that each acquire 100 tokens, settle a random
// 50..100, and stop once a budget refusal happens with nothing in flight.
// It returns the sum of the usage of every granted request.
func budgetRace(t *testing.T, lims []Limiter, subject string, goroutines int, limit int64, extra func(*Request)) int64 {
	t.Helper()
	ctx := context.Background()
	var total atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		lim := lims[g%len(lims)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for {
				req := &Request{Subject: subject, Budgets: []Budget{{Key: "", Limit: limit}}, Reserve: 100}
				if extra != nil {
					extra(req)
				}
				l, err := lim.Acquire(ctx, req)
				if err != nil {
					if !errors.Is(err, ErrBudgetExceeded) && !errors.Is(err, ErrTooManyParallel) {
						t.Errorf("unexpected refusal: %v", err)
						return
					}
					// Done only when the budget is full for good: nothing in flight.
					if errors.Is(err, ErrBudgetExceeded) {
						_, reserved, err := lim.Spent(ctx, subject, "")
						if err != nil {
							t.Errorf("reading budget: %v", err)
							return
						}
						if reserved == 0 {
							return
						}
					}
					runtime.Gosched()
					continue
				}
				used := 50 + rng.Int64N(51)
				if err := lim.Settle(ctx, l, used); err != nil {
					t.Errorf("settling: %v", err)
					return
				}
				total.Add(used)
			}
		}()
	}
	wg.Wait()
	return total.Load()
}

func TestMemoryConcurrentBudget(t *testing.T) {
	t.Parallel()
	m, err := NewMemory(MemoryOptions{})
	require.NoError(t, err)
	defer m.Close()
	const limit = 10_000
	total := budgetRace(t, []Limiter{m}, "s", 200, limit, nil)
	used, reserved, err := m.Spent(context.Background(), "s", "")
	require.NoError(t, err)
	assert.Equal(t, total, used, "every admitted request's usage is recorded")
	assert.LessOrEqual(t, used, int64(limit), "reservations are upper bounds: no overspend")
	assert.Greater(t, used, int64(limit-100), "refused only when 100 did not fit")
	assert.Zero(t, reserved)
}

func TestMemoryKeepAlive(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(t0.UnixMilli())
	m, err := NewMemory(MemoryOptions{Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	require.NoError(t, err)
	defer m.Close()
	ctx := context.Background()
	req := func() *Request {
		return &Request{Subject: "s", MaxParallel: 1, LeaseTTL: 10 * time.Second}
	}
	l, err := m.Acquire(ctx, req())
	require.NoError(t, err)
	for range 5 {
		clock.Add(8_000)
		require.NoError(t, l.KeepAlive(ctx, 10*time.Second))
		_, err := m.Acquire(ctx, req())
		require.ErrorIs(t, err, ErrTooManyParallel, "a kept-alive lease holds its slot")
	}
	clock.Add(10_000)
	_, err = m.Acquire(ctx, req())
	require.NoError(t, err, "without keep-alive the lease expires")
	require.ErrorIs(t, l.KeepAlive(ctx, time.Second), ErrLeaseExpired)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	m, err := NewMemory(MemoryOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() }) // after the parallel subtests
	tests := []struct {
		name string
		req  Request
	}{
		{"empty subject", Request{}},
		{"negative reserve", Request{Subject: "s", Reserve: -1}},
		{"negative parallel", Request{Subject: "s", MaxParallel: -1}},
		{"negative budget", Request{Subject: "s", Budgets: []Budget{{"", -1}}}},
		{"newline in budget key", Request{Subject: "s", Budgets: []Budget{{"a\nb", 1}}}},
		{"duplicate budget", Request{Subject: "s", Budgets: []Budget{{"a", 1}, {"a", 2}}}},
		{"zero window limit", Request{Subject: "s", Windows: []Window{{Requests: true, Window: time.Minute}}}},
		{"window below 1ms", Request{Subject: "s", Windows: []Window{{Requests: true, Limit: 1, Window: time.Microsecond}}}},
		{"duplicate window", Request{Subject: "s", Windows: []Window{{Limit: 1, Window: time.Minute}, {Name: "x", Limit: 2, Window: time.Minute}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := m.Acquire(context.Background(), &tc.req)
			require.ErrorIs(t, err, ErrInvalidRequest)
		})
	}
	require.ErrorIs(t, m.Settle(context.Background(), &Lease{owner: m}, -1), ErrInvalidRequest)
	require.NoError(t, m.Settle(context.Background(), nil, 1), "nil lease: nothing to settle")
}

func TestLimitErrorIs(t *testing.T) {
	t.Parallel()
	sentinels := map[Kind]error{
		KindBudget:      ErrBudgetExceeded,
		KindRate:        ErrRateLimited,
		KindParallel:    ErrTooManyParallel,
		KindUnavailable: ErrUnavailable,
	}
	for kind, want := range sentinels {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			var err error = &LimitError{Kind: kind, Rule: "r", Err: context.DeadlineExceeded}
			for k, s := range sentinels {
				assert.Equal(t, k == kind, errors.Is(err, s), "%v against %v", kind, s)
			}
			assert.True(t, errors.Is(err, want))
			assert.True(t, errors.Is(err, context.DeadlineExceeded), "the cause unwraps")
			assert.NotEmpty(t, err.Error())
		})
	}
}

func TestRuleNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"token budget", Budget{}.Rule(), "max_tokens"},
		{"entry budget", Budget{Key: "openai/0"}.Rule(), "max_tokens:openai/0"},
		{"requests per minute", Window{Requests: true, Window: time.Minute}.Rule(), "requests/1m"},
		{"tokens per day", Window{Window: 24 * time.Hour}.Rule(), "tokens/24h"},
		{"odd window", Window{Window: 90 * time.Second}.Rule(), "tokens/1m30s"},
		{"named", Window{Name: "tpm", Window: time.Minute}.Rule(), "tpm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.got)
		})
	}
}

// TestRetryAfterIsExact checks the promise of RetryAfter on random sliding
// windows: at now+retry the same request fits, one millisecond earlier it
// does not, and the wait is never longer than the window.
func TestRetryAfterIsExact(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for range 20_000 {
		w := 1 + rng.Int64N(100_000)
		limit := 1 + rng.Int64N(1000)
		now := 1_765_000_000_000 + rng.Int64N(w)
		// A state reached by admissions: tat at most a window ahead.
		s := winState{tat: float64(now) + rng.Float64()*float64(w)}
		cost := rng.Int64N(limit + 1)
		if s.fits(w, now, cost, limit, false) {
			continue
		}
		retry := s.retryMs(w, now, cost, limit, false)
		require.Positive(t, retry)
		require.LessOrEqual(t, retry, w, "state %+v w=%d now=%d cost=%d limit=%d", s, w, now, cost, limit)
		require.True(t, s.fits(w, now+retry, cost, limit, false), "state %+v w=%d now=%d cost=%d limit=%d retry=%d", s, w, now, cost, limit, retry)
		if retry > 1 {
			require.False(t, s.fits(w, now+retry-1, cost, limit, false), "state %+v w=%d now=%d cost=%d limit=%d retry=%d", s, w, now, cost, limit, retry)
		}
		// What remaining promises fits, one more does not.
		r := s.remaining(w, now, limit, false)
		if r > 0 {
			require.True(t, s.fits(w, now, r, limit, false))
		}
		require.False(t, s.fits(w, now, r+1, limit, false))
		checked++
	}
	require.Greater(t, checked, 1000)
}

func TestMemoryReset(t *testing.T) {
	t.Parallel()
	m, err := NewMemory(MemoryOptions{})
	require.NoError(t, err)
	defer m.Close()
	ctx := context.Background()
	req := &Request{Subject: "s", Budgets: []Budget{{"", 100}}, Reserve: 100}
	l, err := m.Acquire(ctx, req)
	require.NoError(t, err)
	_, err = m.Acquire(ctx, req)
	require.ErrorIs(t, err, ErrBudgetExceeded)
	require.NoError(t, m.Reset(ctx, "s"))
	_, err = m.Acquire(ctx, req)
	require.NoError(t, err, "a recreated token starts afresh")
	require.NoError(t, m.Settle(ctx, l, 100), "a lease from before the reset settles harmlessly")
	used, reserved, err := m.Spent(ctx, "s", "")
	require.NoError(t, err)
	assert.Equal(t, [2]int64{0, 100}, [2]int64{used, reserved})
}

func TestMemoryClosed(t *testing.T) {
	t.Parallel()
	m, err := NewMemory(MemoryOptions{})
	require.NoError(t, err)
	l, err := m.Acquire(context.Background(), &Request{Subject: "s", Reserve: 1})
	require.NoError(t, err)
	require.NoError(t, m.Close())
	_, err = m.Acquire(context.Background(), &Request{Subject: "s"})
	require.ErrorIs(t, err, ErrClosed)
	require.NoError(t, m.Settle(context.Background(), l, 1), "leases settle after Close")
}
