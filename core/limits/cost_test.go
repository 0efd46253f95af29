package limits

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/pricing"
)

// Dollar budgets and cost windows are counters of micro-dollars: the proxy
// prices each reservation with core/pricing (the prompt estimate and the
// output cap far from the end, the prompt's bound near it, one output token
// per choice as the floor) and settles the cost of the reported usage. These
// scenarios drive both backends with those amounts for gpt-4o's list price
// ($2.50 / $1.25 cached / $10 per 1M tokens): 2.5, 1.25 and 10 µ$ a token.
func TestCostConformance(t *testing.T) {
	t.Parallel()
	price, err := pricing.ParsePrice(pricing.Rates{Input: "2.50", CachedInput: "1.25", Output: "10"})
	require.NoError(t, err)
	// est 100 prompt tokens, bound 120, output cap per the scenario.
	costReq := func(cap int64, b []Budget, w []Window) *Request {
		return &Request{Budgets: b, Windows: w,
			Reserve: price.WorstCost(100, cap), Worst: price.WorstCost(120, cap), Floor: price.WorstCost(120, 1)}
	}
	paid := func(prompt, cached, completion int64) int64 {
		return price.Cost(pricing.Usage{Prompt: prompt, Cached: cached, Completion: completion})
	}
	// The clamp's output cap: what a grant pays for after the prompt bound.
	require.Equal(t, int64(330), price.MaxOutput(3600, 120, MaxTokens))
	require.Equal(t, int64(20), price.MaxOutput(500, 120, MaxTokens))

	dollars := []Budget{{Key: "", Limit: 10_000}} // $0.01
	window := []Window{{Name: "cost_usd/1h", Limit: 5000, Window: time.Hour}}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "dollar budget: reserve, settle the reported cost, clamp, refuse",
			steps: []step{
				{req: costReq(500, dollars, nil), lease: "a", wantGrant: ptr(5250)},
				{spent: key(""), wantReserved: 5250},
				{settle: "a", used: paid(100, 40, 300)}, // 150 + 50 + 3000
				{spent: key(""), wantUsed: 3200},
				{req: costReq(500, dollars, nil), lease: "b", wantGrant: ptr(5250)},
				{settle: "b", used: paid(100, 40, 300)},
				// 3600 left cannot hold the worst case, 5300: the grant is what is left.
				{req: costReq(500, dollars, nil), lease: "c", wantGrant: ptr(3600)},
				{settle: "c", used: paid(100, 0, 330)}, // 250 + 3300
				{spent: key(""), wantUsed: 9950},
				// 50 left, below the floor (the bound's 300 plus one token's 10).
				{req: costReq(500, dollars, nil), wantErr: ErrBudgetExceeded, wantRule: "max_tokens", wantRemaining: ptr(50)},
				{spent: key(""), wantUsed: 9950},
			},
		},
		{
			name: "cost window: clamp near the end, refuse, then admit in a later window",
			steps: []step{
				{req: costReq(200, nil, window), lease: "a", wantGrant: ptr(2250), wantTokLeft: ptr(2750)},
				{settle: "a", used: paid(100, 0, 200)},
				{req: costReq(200, nil, window), lease: "b", wantGrant: ptr(2250)},
				{settle: "b", used: paid(100, 0, 200)},
				{req: costReq(200, nil, window), lease: "c", wantGrant: ptr(500)},
				{settle: "c", used: paid(100, 0, 20)}, // 250 + 200
				{req: costReq(200, nil, window), wantErr: ErrRateLimited, wantRule: "cost_usd/1h", wantRemaining: ptr(50)},
				{at: 2 * time.Hour, req: costReq(200, nil, window), wantGrant: ptr(2250)},
			},
		},
		{
			name: "a refused dollar lease settled at zero gives everything back",
			steps: []step{
				{req: costReq(500, dollars, window), lease: "a", wantGrant: ptr(5000)},
				{settle: "a", used: 0},
				{spent: key(""), wantUsed: 0},
				{req: costReq(200, dollars, window), lease: "b", wantGrant: ptr(2250), wantTokLeft: ptr(2750)},
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
	assert.Equal(t, int64(3200), paid(100, 40, 300))
}
