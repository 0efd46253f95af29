package limits

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// t0 is aligned to the hour, so window buckets start at t0.
var t0 = time.UnixMilli(472223 * 3600_000)

type backend struct {
	name string
	new  func(t *testing.T) Limiter
}

// backends returns the memory backend and, when a Redis is available, the
// Redis backend; conformance tests must pass on both identically.
func backends(t *testing.T) []backend {
	bs := []backend{{name: "memory", new: func(t *testing.T) Limiter {
		m, err := NewMemory(MemoryOptions{Now: func() time.Time { return t0 }})
		require.NoError(t, err)
		t.Cleanup(func() { _ = m.Close() })
		return m
	}}}
	if testRedisAddr != "" {
		bs = append(bs, backend{name: "redis", new: func(t *testing.T) Limiter {
			return newTestRedis(t, testRedisAddr, 5*time.Second)
		}})
	}
	return bs
}

func ptr(v int64) *int64 { return &v }

// step is one action of a scenario: an Acquire (req set), a Settle (settle
// set) or a Spent check (spent set), at t0 + at.
type step struct {
	at     time.Duration
	req    *Request // Subject and Now are filled in
	repeat int      // run an acquire this many times (default 1)
	lease  string   // name the granted lease
	settle string
	used   int64
	spent  *string // budget key to check
	// Expectations.
	wantErr       error // sentinel; nil means granted / succeeded
	wantRule      string
	wantRemaining *int64 // refusal's Remaining
	wantRetry     *time.Duration
	wantUsed      int64
	wantReserved  int64
	wantReqLeft   *int64 // Lease.Rate().Requests.Remaining
	wantTokLeft   *int64 // Lease.Rate().Tokens.Remaining
	wantGrant     *int64 // Lease.Reserved()
}

func dur(d time.Duration) *time.Duration { return &d }
func key(k string) *string               { return &k }

func TestConformance(t *testing.T) {
	t.Parallel()
	budget := func(limit int64) []Budget { return []Budget{{Key: "", Limit: limit}} }
	rpm := func(n int64, fixed bool) []Window {
		return []Window{{Requests: true, Limit: n, Window: time.Minute, Fixed: fixed}}
	}
	tpm := func(n int64) []Window { return []Window{{Limit: n, Window: time.Minute}} }
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "clamp grants what is left, then refuses below the floor",
			steps: []step{
				{req: &Request{Budgets: budget(1000), Reserve: 600, Floor: 50, Worst: 700}, lease: "a", wantGrant: ptr(600)},
				// 400 left: cannot hold worst 700, the grant is the 400 left.
				{req: &Request{Budgets: budget(1000), Reserve: 600, Floor: 50, Worst: 700}, lease: "b", wantGrant: ptr(400)},
				{spent: key(""), wantReserved: 1000},
				{req: &Request{Budgets: budget(1000), Reserve: 10, Floor: 1, Worst: 10}, wantErr: ErrBudgetExceeded, wantRemaining: ptr(0)},
				{settle: "b", used: 120},
				// 280 left: a floor of 300 does not fit.
				{req: &Request{Budgets: budget(1000), Reserve: 400, Floor: 300, Worst: 500}, wantErr: ErrBudgetExceeded, wantRule: "max_tokens", wantRemaining: ptr(280)},
				{req: &Request{Budgets: budget(1000), Reserve: 400, Floor: 280, Worst: 500}, wantGrant: ptr(280)},
				{spent: key(""), wantUsed: 120, wantReserved: 880},
			},
		},
		{
			name: "clamp far from the end grants the estimate",
			steps: []step{
				{req: &Request{Budgets: budget(1000), Reserve: 100, Floor: 20, Worst: 300}, wantGrant: ptr(100)},
				{req: &Request{Budgets: budget(1000), Reserve: 100, Floor: 20, Worst: 300}, wantGrant: ptr(100)},
				// 800 left, worst 900: the grant covers the worst case, clamped.
				{req: &Request{Budgets: budget(1000), Reserve: 100, Floor: 20, Worst: 900}, wantGrant: ptr(800)},
			},
		},
		{
			name: "clamp on the tightest of budgets and token windows",
			steps: []step{
				{req: &Request{Budgets: []Budget{{Key: "", Limit: 1000}, {Key: "p/0", Limit: 500}}, Windows: tpm(300), Reserve: 50, Floor: 10, Worst: 400}, wantGrant: ptr(300)},
				{req: &Request{Budgets: []Budget{{Key: "", Limit: 1000}, {Key: "p/0", Limit: 500}}, Windows: tpm(300), Reserve: 50, Floor: 10, Worst: 400}, wantErr: ErrRateLimited},
				{at: time.Minute, req: &Request{Budgets: []Budget{{Key: "", Limit: 1000}, {Key: "p/0", Limit: 500}}, Windows: []Window{{Limit: 300, Window: time.Minute, Fixed: true}}, Reserve: 50, Floor: 10, Worst: 400}, wantGrant: ptr(200)},
			},
		},
		{
			name: "an expired lease bills its report, a late settle corrects it",
			steps: []step{
				{req: &Request{Budgets: budget(1000), Reserve: 300, Report: 40, LeaseTTL: 10 * time.Second}, lease: "a"},
				{at: 11 * time.Second, req: &Request{Budgets: budget(1000), Reserve: 100}, lease: "b"},
				{spent: key(""), wantUsed: 40, wantReserved: 100},
				{settle: "a", used: 55},
				{spent: key(""), wantUsed: 55, wantReserved: 100},
			},
		},
		{
			name: "absurd amounts saturate instead of wrapping",
			steps: []step{
				{req: &Request{Budgets: budget(1000), Reserve: 9223372036854775784}, wantErr: ErrBudgetExceeded, wantRemaining: ptr(1000)},
				{req: &Request{Budgets: budget(1000), Reserve: 10, Floor: 5, Worst: 9223372036854775784}, wantGrant: ptr(1000), lease: "a"},
				{settle: "a", used: 9223372036854775807},
				{spent: key(""), wantUsed: MaxTokens},
				{req: &Request{Budgets: budget(1000), Reserve: 1}, wantErr: ErrBudgetExceeded, wantRemaining: ptr(0)},
			},
		},
		{
			name: "budget fits then refuses",
			steps: []step{
				{req: &Request{Budgets: budget(1000), Reserve: 600}, lease: "a"},
				{req: &Request{Budgets: budget(1000), Reserve: 600}, wantErr: ErrBudgetExceeded, wantRule: "max_tokens", wantRemaining: ptr(400), wantRetry: dur(0)},
				{spent: key(""), wantUsed: 0, wantReserved: 600},
				{settle: "a", used: 500},
				{spent: key(""), wantUsed: 500, wantReserved: 0},
				{req: &Request{Budgets: budget(1000), Reserve: 500}, lease: "b"},
				{req: &Request{Budgets: budget(1000), Reserve: 0}, wantErr: ErrBudgetExceeded, wantRemaining: ptr(0)},
			},
		},
		{
			name: "every budget or none",
			steps: []step{
				{req: &Request{Budgets: []Budget{{"", 1000}, {"openai/0", 500}}, Reserve: 400}},
				{req: &Request{Budgets: []Budget{{"", 1000}, {"openai/0", 500}}, Reserve: 200}, wantErr: ErrBudgetExceeded, wantRule: "max_tokens:openai/0", wantRemaining: ptr(100)},
				{spent: key(""), wantReserved: 400},
				{spent: key("openai/0"), wantReserved: 400},
				// The entry budget fits, the token budget does not: neither changes.
				{req: &Request{Budgets: []Budget{{"anthropic/0", 1000}, {"", 1000}}, Reserve: 650}, wantErr: ErrBudgetExceeded, wantRule: "max_tokens", wantRemaining: ptr(600)},
				{spent: key("anthropic/0"), wantReserved: 0},
				{req: &Request{Budgets: budget(1000), Reserve: 600}},
			},
		},
		{
			name: "zero limit counts without limiting",
			steps: []step{
				{req: &Request{Budgets: []Budget{{"", 0}}, Reserve: 1 << 40}, lease: "a"},
				{settle: "a", used: 1 << 41},
				{spent: key(""), wantUsed: 1 << 41},
			},
		},
		{
			name: "a refusal consumes no window and no budget",
			steps: []step{
				{req: &Request{Budgets: budget(100), Windows: rpm(2, false), Reserve: 60}},
				{req: &Request{Budgets: budget(100), Windows: rpm(2, false), Reserve: 60}, wantErr: ErrBudgetExceeded},
				{req: &Request{Budgets: budget(100), Windows: rpm(2, false), Reserve: 10}, wantReqLeft: ptr(0)},
				{req: &Request{Budgets: budget(100), Windows: rpm(2, false), Reserve: 10}, wantErr: ErrRateLimited, wantRule: "requests/1m", wantRemaining: ptr(0)},
				{spent: key(""), wantReserved: 70},
			},
		},
		{
			name: "sliding window (GCRA) frees one request per window/limit",
			steps: []step{
				{req: &Request{Windows: rpm(10, false)}, repeat: 10},
				// Ten in the last minute: the next fits when the first of
				// them is a full interval (6s) old.
				{req: &Request{Windows: rpm(10, false)}, wantErr: ErrRateLimited, wantRetry: dur(6 * time.Second), wantRemaining: ptr(0)},
				{at: 5999 * time.Millisecond, req: &Request{Windows: rpm(10, false)}, wantErr: ErrRateLimited, wantRetry: dur(time.Millisecond)},
				{at: 6 * time.Second, req: &Request{Windows: rpm(10, false)}, wantReqLeft: ptr(0)},
				{at: 6 * time.Second, req: &Request{Windows: rpm(10, false)}, wantErr: ErrRateLimited, wantRetry: dur(6 * time.Second)},
				// 30s later four more intervals have passed.
				{at: 36 * time.Second, req: &Request{Windows: rpm(10, false)}, repeat: 5},
				{at: 36 * time.Second, req: &Request{Windows: rpm(10, false)}, wantErr: ErrRateLimited},
			},
		},
		{
			name: "one per minute: retry after at most the window, exactly",
			steps: []step{
				{at: 10 * time.Second, req: &Request{Windows: rpm(1, false)}},
				{at: 10 * time.Second, req: &Request{Windows: rpm(1, false)}, wantErr: ErrRateLimited, wantRetry: dur(time.Minute)},
				{at: 50 * time.Second, req: &Request{Windows: rpm(1, false)}, wantErr: ErrRateLimited, wantRetry: dur(20 * time.Second)},
				{at: 70*time.Second - time.Millisecond, req: &Request{Windows: rpm(1, false)}, wantErr: ErrRateLimited, wantRetry: dur(time.Millisecond)},
				{at: 70 * time.Second, req: &Request{Windows: rpm(1, false)}, wantReqLeft: ptr(0)},
			},
		},
		{
			name: "fixed window resets at the boundary",
			steps: []step{
				{at: 30 * time.Second, req: &Request{Windows: rpm(10, true)}, repeat: 10},
				{at: 60*time.Second - time.Millisecond, req: &Request{Windows: rpm(10, true)}, wantErr: ErrRateLimited, wantRetry: dur(time.Millisecond)},
				{at: 60 * time.Second, req: &Request{Windows: rpm(10, true)}, repeat: 9},
				{at: 60 * time.Second, req: &Request{Windows: rpm(10, true)}, wantReqLeft: ptr(0)},
				{at: 61 * time.Second, req: &Request{Windows: rpm(10, true)}, wantErr: ErrRateLimited, wantRetry: dur(59 * time.Second)},
			},
		},
		{
			name: "token window reserves then settles",
			steps: []step{
				{req: &Request{Windows: []Window{{Limit: 1000, Window: time.Minute}}, Reserve: 800}, lease: "a", wantTokLeft: ptr(200)},
				{req: &Request{Windows: []Window{{Limit: 1000, Window: time.Minute}}, Reserve: 300}, wantErr: ErrRateLimited, wantRule: "tokens/1m", wantRemaining: ptr(200)},
				{settle: "a", used: 100},
				{req: &Request{Windows: []Window{{Limit: 1000, Window: time.Minute}}, Reserve: 300}, lease: "b", wantTokLeft: ptr(600)},
				{settle: "b", used: 1000}, // over the reservation: charged in full
				{req: &Request{Windows: []Window{{Limit: 1000, Window: time.Minute}}, Reserve: 1}, wantErr: ErrRateLimited, wantRemaining: ptr(0)},
			},
		},
		{
			name: "token settle gives back what was not used",
			steps: []step{
				// 900 tokens occupy 54s of the window from 50s: until 104s.
				{at: 50 * time.Second, req: &Request{Windows: []Window{{Limit: 1000, Window: time.Minute}}, Reserve: 900}, lease: "a"},
				// At 90s: 46s of the 60s free, 766 tokens.
				{at: 90 * time.Second, req: &Request{Windows: []Window{{Limit: 1000, Window: time.Minute}}, Reserve: 0}, wantTokLeft: ptr(766)},
				{settle: "a", used: 300},
				// 300 tokens from 50s occupy until 68s: free at 90s.
				{at: 90 * time.Second, req: &Request{Windows: []Window{{Limit: 1000, Window: time.Minute}}, Reserve: 850}, wantTokLeft: ptr(150)},
			},
		},
		{
			name: "a request above a rule's limit never fits",
			steps: []step{
				{req: &Request{Windows: []Window{{Name: "tpm", Limit: 100, Window: time.Minute}}, Reserve: 200}, wantErr: ErrRateLimited, wantRule: "tpm", wantRetry: dur(0), wantRemaining: ptr(100)},
			},
		},
		{
			name: "max_parallel frees on settle and on expiry",
			steps: []step{
				{req: &Request{MaxParallel: 2, LeaseTTL: 10 * time.Second}, lease: "a"},
				{req: &Request{MaxParallel: 2, LeaseTTL: 10 * time.Second}, lease: "b"},
				{req: &Request{MaxParallel: 2, LeaseTTL: 10 * time.Second}, wantErr: ErrTooManyParallel, wantRule: "max_parallel", wantRemaining: ptr(0), wantRetry: dur(time.Second)},
				{settle: "a"},
				{at: time.Second, req: &Request{MaxParallel: 2, LeaseTTL: 10 * time.Second}, lease: "c"},
				{at: 2 * time.Second, req: &Request{MaxParallel: 2, LeaseTTL: 10 * time.Second}, wantErr: ErrTooManyParallel},
				// b expired at 10s, c at 11s.
				{at: 10 * time.Second, req: &Request{MaxParallel: 2, LeaseTTL: 10 * time.Second}},
				{at: 10 * time.Second, req: &Request{MaxParallel: 2, LeaseTTL: 10 * time.Second}, wantErr: ErrTooManyParallel},
				{at: 11 * time.Second, req: &Request{MaxParallel: 2, LeaseTTL: 10 * time.Second}},
			},
		},
		{
			name: "an expired lease is charged, a late settle corrects it",
			steps: []step{
				{req: &Request{Budgets: budget(1000), Reserve: 300, LeaseTTL: 10 * time.Second}, lease: "a"},
				{at: 11 * time.Second, req: &Request{Budgets: budget(1000), Reserve: 100}, lease: "b"},
				{spent: key(""), wantUsed: 300, wantReserved: 100},
				{settle: "a", used: 50},
				{spent: key(""), wantUsed: 50, wantReserved: 100},
				{settle: "a", used: 999}, // idempotent after expiry too
				{settle: "b", used: 100},
				{spent: key(""), wantUsed: 150},
			},
		},
		{
			name: "settle is idempotent",
			steps: []step{
				{req: &Request{Budgets: budget(1000), Windows: []Window{{Limit: 1000, Window: time.Minute}}, Reserve: 100}, lease: "a"},
				{settle: "a", used: 40},
				{settle: "a", used: 40},
				{settle: "a", used: 90},
				{spent: key(""), wantUsed: 40},
				{req: &Request{Windows: []Window{{Limit: 1000, Window: time.Minute}}, Reserve: 1}, wantTokLeft: ptr(959)},
			},
		},
		{
			name: "settle above the reservation is charged past the limit",
			steps: []step{
				{req: &Request{Budgets: budget(1000), Reserve: 100}, lease: "a"},
				{settle: "a", used: 1500},
				{spent: key(""), wantUsed: 1500},
				{req: &Request{Budgets: budget(1000), Reserve: 1}, wantErr: ErrBudgetExceeded, wantRemaining: ptr(0)},
			},
		},
	}
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					runSteps(t, be.new(t), tc.steps)
				})
			}
		})
	}
}

func runSteps(t *testing.T, lim Limiter, steps []step) {
	t.Helper()
	ctx := context.Background()
	subject := uniqueSubject(t)
	leases := map[string]*Lease{}
	for i, s := range steps {
		where := fmt.Sprintf("step %d", i)
		switch {
		case s.req != nil:
			n := max(s.repeat, 1)
			for k := range n {
				req := *s.req
				req.Subject = subject
				req.Now = t0.Add(s.at)
				l, err := lim.Acquire(ctx, &req)
				if s.wantErr == nil {
					require.NoError(t, err, "%s #%d", where, k)
					if s.lease != "" {
						leases[s.lease] = l
					}
					if s.wantReqLeft != nil {
						assert.Equal(t, *s.wantReqLeft, l.Rate().Requests.Remaining, where)
					}
					if s.wantTokLeft != nil {
						assert.Equal(t, *s.wantTokLeft, l.Rate().Tokens.Remaining, where)
					}
					if s.wantGrant != nil {
						assert.Equal(t, *s.wantGrant, l.Reserved(), "%s grant", where)
					}
					continue
				}
				require.ErrorIs(t, err, s.wantErr, where)
				require.Nil(t, l, where)
				var le *LimitError
				require.ErrorAs(t, err, &le, where)
				if s.wantRule != "" {
					assert.Equal(t, s.wantRule, le.Rule, where)
				}
				if s.wantRemaining != nil {
					assert.Equal(t, *s.wantRemaining, le.Remaining, where)
				}
				if s.wantRetry != nil {
					assert.Equal(t, *s.wantRetry, le.RetryAfter, where)
				}
			}
		case s.settle != "":
			l := leases[s.settle]
			require.NotNil(t, l, where)
			require.NoError(t, lim.Settle(ctx, l, s.used), where)
		case s.spent != nil:
			used, reserved, err := lim.Spent(ctx, subject, *s.spent)
			require.NoError(t, err, where)
			assert.Equal(t, s.wantUsed, used, "%s used", where)
			assert.Equal(t, s.wantReserved, reserved, "%s reserved", where)
		}
	}
}

// TestBackendsAgree drives the memory and the Redis backend with the same
// random sequence and requires identical decisions and numbers: the Lua
// scripts and window.go must stay the same algorithm.
func TestBackendsAgree(t *testing.T) {
	t.Parallel()
	addr := needRedis(t)
	mem, err := NewMemory(MemoryOptions{})
	require.NoError(t, err)
	defer mem.Close()
	red := newTestRedis(t, addr, 5*time.Second)
	ctx := context.Background()
	subject := uniqueSubject(t)
	rng := rand.New(rand.NewPCG(1, 2))
	windows := []Window{
		{Requests: true, Limit: 8, Window: 10 * time.Second},
		{Limit: 5000, Window: 7 * time.Second},
		{Limit: 9000, Window: 13 * time.Second, Fixed: true},
	}
	budgets := []Budget{{"", 120_000}, {"openai/1", 50_000}}
	type pair struct{ m, r *Lease }
	var open []pair
	kinds := map[Kind]int{}
	granted := 0
	now := t0
	for i := range 600 {
		now = now.Add(time.Duration(rng.IntN(900)) * time.Millisecond)
		if len(open) > 0 && rng.IntN(2) == 0 {
			k := rng.IntN(len(open))
			p := open[k]
			open = append(open[:k], open[k+1:]...)
			used := rng.Int64N(2 * (p.m.Reserved() + 1))
			require.NoError(t, mem.Settle(ctx, p.m, used))
			require.NoError(t, red.Settle(ctx, p.r, used))
			continue
		}
		req := Request{
			Subject:     subject,
			Budgets:     budgets[:1+rng.IntN(2)],
			Windows:     windows[:rng.IntN(4)],
			MaxParallel: 8,
			Reserve:     rng.Int64N(1200),
			LeaseTTL:    20 * time.Second,
			Now:         now,
		}
		lm, errM := mem.Acquire(ctx, &req)
		lr, errR := red.Acquire(ctx, &req)
		require.Equal(t, errM == nil, errR == nil, "op %d: memory %v, redis %v", i, errM, errR)
		if errM != nil {
			var em, er *LimitError
			require.True(t, errors.As(errM, &em) && errors.As(errR, &er), "op %d", i)
			require.Equal(t, *em, *er, "op %d", i)
			kinds[em.Kind]++
			continue
		}
		require.Equal(t, lm.Rate(), lr.Rate(), "op %d", i)
		granted++
		open = append(open, pair{lm, lr})
		for _, b := range budgets {
			um, rm, err := mem.Spent(ctx, subject, b.Key)
			require.NoError(t, err)
			ur, rr, err := red.Spent(ctx, subject, b.Key)
			require.NoError(t, err)
			require.Equal(t, [2]int64{um, rm}, [2]int64{ur, rr}, "op %d budget %q", i, b.Key)
		}
	}
	// The sequence must exercise every kind of decision to prove anything.
	t.Logf("granted %d, refused %v", granted, kinds)
	assert.Greater(t, granted, 100)
	assert.Positive(t, kinds[KindBudget])
	assert.Positive(t, kinds[KindRate])
	assert.Positive(t, kinds[KindParallel])
}
