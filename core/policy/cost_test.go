package policy

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCostFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		doc       string
		maxCost   int64
		windows   []int64 // CostMicros of each rate rule
		hasLimits bool
		bad       []string // paths of the errors
	}{
		{name: "lifetime budget", doc: `{"max_cost_usd": 0.5}`, maxCost: 500_000, hasLimits: true},
		{name: "cost window", doc: `{"rate_limit": {"rules": [{"cost_usd": 5, "window": "24h"}, {"requests": 10, "window": "1m"}]}}`,
			windows: []int64{5_000_000, 0}, hasLimits: true},
		{name: "entry budget only", doc: `{"providers": {"openai": [{"model": "gpt-4o", "max_cost_usd": 12.25}]}}`, hasLimits: true},
		{name: "no cost limits", doc: `{"max_tokens": 100}`},
		{name: "micro-dollar", doc: `{"max_cost_usd": 0.000001}`, maxCost: 1, hasLimits: true},
		{name: "below a micro-dollar", doc: `{"max_cost_usd": 0.0000001}`, bad: []string{"max_cost_usd"}},
		{name: "negative", doc: `{"max_cost_usd": -1}`, bad: []string{"max_cost_usd"}},
		{name: "too large", doc: `{"max_cost_usd": 1e12}`, bad: []string{"max_cost_usd"}},
		{name: "string", doc: `{"max_cost_usd": "5"}`, bad: []string{"max_cost_usd"}},
		{name: "misspelled", doc: `{"max_cost_use": 5}`, bad: []string{"max_cost_use"}},
		{name: "entry negative", doc: `{"providers": {"openai": [{"max_cost_usd": -2}]}}`, bad: []string{"providers.openai[0].max_cost_usd"}},
		{name: "cost and tokens in one rule", doc: `{"rate_limit": {"rules": [{"cost_usd": 1, "tokens": 5, "window": "1h"}]}}`,
			bad: []string{"rate_limit.rules[0]"}},
		{name: "negative cost window", doc: `{"rate_limit": {"rules": [{"cost_usd": -1, "window": "1h"}]}}`,
			bad: []string{"rate_limit.rules[0].cost_usd"}},
		{name: "two cost windows of one length", doc: `{"rate_limit": {"rules": [{"cost_usd": 1, "window": "1h"}, {"cost_usd": 2, "window": "60m"}]}}`,
			bad: []string{"rate_limit.rules[1]"}},
		{name: "fixed and sliding of one length", doc: `{"rate_limit": {"rules": [{"cost_usd": 1, "window": "1h"}, {"cost_usd": 2, "window": "1h", "strategy": "fixed"}]}}`,
			windows: []int64{1_000_000, 2_000_000}, hasLimits: true},
		{name: "misspelled cost window", doc: `{"rate_limit": {"rules": [{"cost_us": 1, "window": "1h"}]}}`,
			bad: []string{"rate_limit.rules[0].cost_us"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(tc.doc))
			if len(tc.bad) > 0 {
				require.Error(t, err)
				var paths []string
				for _, fe := range FieldErrors(err) {
					paths = append(paths, fe.Path)
				}
				assert.Equal(t, tc.bad, paths)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.maxCost, p.MaxCostMicros())
			assert.Equal(t, tc.hasLimits, p.HasCostLimits())
			if tc.windows != nil {
				require.Len(t, p.RateLimit.Rules, len(tc.windows))
				for i, w := range tc.windows {
					assert.Equal(t, w, p.RateLimit.Rules[i].CostMicros(), "rule %d", i)
				}
			}
		})
	}
}

func TestResolveCostKey(t *testing.T) {
	p, err := Parse([]byte(`{"providers": {"openai": [{"model": "gpt-4o", "max_tokens": 100}, {"model": "gpt-4o-mini", "max_cost_usd": 0.25}]}}`))
	require.NoError(t, err)
	cases := []struct {
		model, budgetKey, costKey string
		maxCost                   int64
	}{
		{model: "gpt-4o", budgetKey: "openai/0"},
		{model: "gpt-4o-mini", costKey: "openai/1", maxCost: 250_000},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			r, err := p.Resolve(tc.model)
			require.NoError(t, err)
			assert.Equal(t, tc.budgetKey, r.BudgetKey)
			assert.Equal(t, tc.costKey, r.CostKey)
			assert.Equal(t, tc.maxCost, r.MaxCost)
		})
	}
	// A policy built in code and never validated resolves the same.
	built := &Policy{Providers: Providers{{Name: "x", Entries: []ProviderEntry{{MaxCostUSD: 1.5}}}}}
	r, err := built.Resolve("m")
	require.NoError(t, err)
	assert.Equal(t, "x/0", r.CostKey)
	assert.Equal(t, int64(1_500_000), r.MaxCost)
	assert.Zero(t, testing.AllocsPerRun(50, func() { _, _ = p.Resolve("gpt-4o-mini") }), "Resolve allocates")
}

func TestExampleDollarPolicyParses(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../examples/distributed-team/policies/budget-in-dollars.json")
	require.NoError(t, err)
	p, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, int64(25_000_000), p.MaxCostMicros())
	assert.Equal(t, int64(5_000_000), p.RateLimit.Rules[1].CostMicros())
	r, err := p.Resolve("claude-opus-4-6")
	require.NoError(t, err)
	assert.Equal(t, "anthropic/0", r.CostKey)
	assert.Equal(t, int64(10_000_000), r.MaxCost)
}
