package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// The price the dollar tests charge gpt-4o-mini at, set in providers.yaml:
// a fee per request, cached prompt tokens and reasoning tokens at rates of
// their own, so that every part of the price shows in the books.
const costTestPricing = `
pricing:
  gpt-4o-mini: {input: 25, cached_input: 12.5, output: 100, reasoning: 150, request: 0.0005}
`

var costTestPrice = costPrice{input: 25_000_000, cached: 12_500_000, output: 100_000_000, reasoning: 150_000_000, fee: 500}

// Two proxies on one real redis-server hold one $0.50 budget under 100
// concurrent calls: the fleet never spends more than $0.50, and what the
// counters say equals the prices times the usage the fake upstream
// reported, computed here on the test's side.
func TestCostFleetHoldsDollarBudget(t *testing.T) {
	t.Parallel()
	addr := sharedRedisAddr(t)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	const budget = 500_000 // $0.50
	fl := startCostFleet(t, 2, fake.URL(), limSessionYAML(addr, "closed"), costTestPricing,
		`{"model_regex":"^gpt-4o","max_cost_usd":0.5}`)

	const n = 100
	c := limClient(n)
	replies := make([]limReply, n)
	limFanOut(n, func(i int) {
		prompt := limWords(30, i) + " [[fake:long=150,cached=8,reasoning=20]]"
		replies[i] = limChat(c, fl.procs[i%2].URL, fl.tok, "gpt-4o-mini", prompt, 120)
	})
	var expected int64
	ok, clamped, refused := 0, 0, 0
	for i, r := range replies {
		require.NoError(t, r.Err, "request %d", i)
		switch r.Status {
		case 200:
			ok++
			u, finish := costUsageOf(t, r.Body)
			require.Equal(t, int64(8), u.PromptTokensDetails.CachedTokens, "request %d: the fake's cached tokens", i)
			expected += costTestPrice.cost(u)
			if u.CompletionTokens < 120 {
				clamped++
				assert.Equal(t, "length", finish, "request %d: a clamped answer stops at its cap", i)
			}
		case 429:
			refused++
			e := r.ErrorShape(t)
			assert.Equal(t, "budget_exceeded", e.Error.Code, "request %d", i)
			assert.Contains(t, e.Error.Message, "max_cost_usd has $", "request %d", i)
			assert.Contains(t, e.Error.Message, "of $0.500000 left", "request %d", i)
		default:
			t.Errorf("request %d: status %d: %s", i, r.Status, r.Body)
		}
	}
	rows := make([]costRow, len(fl.procs))
	for i, p := range fl.procs {
		rows[i] = costSettled(t, c, p.URL, fl.tok, "")
	}
	t.Logf("%d admitted (%d clamped), %d refused; spent %d of %d micro-dollars; books by the fake's usage %d",
		ok, clamped, refused, rows[0].Used, budget, expected)
	for i := range rows {
		assert.Equal(t, rows[0], rows[i], "proxies %d and 0 disagree about the shared budget", i)
	}
	assert.Equal(t, int64(budget), rows[0].Limit)
	assert.LessOrEqual(t, rows[0].Used, int64(budget), "the fleet overspent the dollar budget")
	assert.Equal(t, expected, rows[0].Used, "the books differ from prices × the fake upstream's usage")
	assert.Zero(t, rows[0].Reserved)
	assert.Positive(t, refused, "no refusal: the budget was never reached and the test proves nothing")
	assert.Equal(t, expected, redisCostUsed(t, limRedisClient(t, addr), fl.hash), "Redis holds other books")
	// Every 200 was metered: the per-model cost counters add up to the books.
	var metered int64
	for _, p := range fl.procs {
		metered += costMetric(t, p.URL, "openai", "gpt-4o-mini")
	}
	assert.Equal(t, expected, metered, "tokenomics_cost_usd_micros_total differs from the books")
}

// costMetric reads tokenomics_cost_usd_micros_total{provider,model} from a
// proxy's /metrics.
func costMetric(t *testing.T, base, provider, model string) int64 {
	t.Helper()
	code, body := httpGet(t, base+"/metrics")
	require.Equal(t, 200, code)
	series := fmt.Sprintf(`tokenomics_cost_usd_micros_total{provider=%q,model=%q} `, provider, model)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series); ok {
			var n int64
			_, err := fmt.Sscan(v, &n)
			require.NoError(t, err, "metric line %q", line)
			return n
		}
	}
	return 0
}
