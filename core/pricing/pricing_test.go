package pricing

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustPrice(t *testing.T, r Rates) Price {
	t.Helper()
	p, err := ParsePrice(r)
	require.NoError(t, err)
	return p
}

func TestParseUSD(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want int64
		bad  bool
	}{
		{name: "integer", in: "3", want: 3_000_000},
		{name: "cents", in: "2.50", want: 2_500_000},
		{name: "sub-cent", in: "0.075", want: 75_000},
		{name: "micro", in: "0.000001", want: 1},
		{name: "trailing zeros past micro", in: "1.0000000", want: 1_000_000},
		{name: "leading dot", in: ".5", want: 500_000},
		{name: "trailing dot", in: "7.", want: 7_000_000},
		{name: "zero", in: "0", want: 0},
		{name: "seventh digit", in: "0.0000001", bad: true},
		{name: "negative", in: "-1", bad: true},
		{name: "exponent", in: "1e-6", bad: true},
		{name: "empty", in: "", bad: true},
		{name: "dot only", in: ".", bad: true},
		{name: "two dots", in: "1.2.3", bad: true},
		{name: "too many digits", in: "1234567890123", bad: true},
		{name: "dollar sign", in: "$1", bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseUSD(tc.in)
			if tc.bad {
				require.ErrorIs(t, err, ErrInvalidAmount)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFromFloat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   float64
		want int64
		bad  bool
	}{
		{name: "half", in: 0.5, want: 500_000},
		{name: "tenth", in: 0.1, want: 100_000},
		{name: "five", in: 5, want: 5_000_000},
		{name: "micro", in: 0.000001, want: 1},
		{name: "below micro", in: 0.0000001, bad: true},
		{name: "negative", in: -0.5, bad: true},
		{name: "nan", in: math.NaN(), bad: true},
		{name: "inf", in: math.Inf(1), bad: true},
		{name: "huge", in: 1e300, bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromFloat(tc.in)
			if tc.bad {
				require.ErrorIs(t, err, ErrInvalidAmount)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFormatUSD(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   int64
		want string
	}{{0, "$0.000000"}, {412, "$0.000412"}, {500_000, "$0.500000"}, {12_345_678, "$12.345678"}} {
		assert.Equal(t, tc.want, FormatUSD(tc.in))
	}
}

func TestParsePrice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		in     Rates
		want   Price
		fields []string // fields with errors
	}{
		{name: "defaults fill cached, write and reasoning",
			in:   Rates{Input: "2.50", Output: "10"},
			want: Price{Input: 2_500_000, CachedInput: 2_500_000, CacheWrite: 2_500_000, Output: 10_000_000, Reasoning: 10_000_000}},
		{name: "all set",
			in:   Rates{Input: "3", CachedInput: "0.30", CacheWrite: "3.75", Output: "15", Reasoning: "20", Request: "0.01"},
			want: Price{Input: 3_000_000, CachedInput: 300_000, CacheWrite: 3_750_000, Output: 15_000_000, Reasoning: 20_000_000, Request: 10_000}},
		{name: "free output is allowed", in: Rates{Input: "0.02", Output: "0"},
			want: Price{Input: 20_000, CachedInput: 20_000, CacheWrite: 20_000}},
		{name: "missing input and output", in: Rates{}, fields: []string{"input", "output"}},
		{name: "bad cached", in: Rates{Input: "1", Output: "1", CachedInput: "x"}, fields: []string{"cached_input"}},
		{name: "rate too high", in: Rates{Input: "1000001", Output: "1"}, fields: []string{"input"}},
		{name: "fee too high", in: Rates{Input: "1", Output: "1", Request: "1001"}, fields: []string{"request"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePrice(tc.in)
			if len(tc.fields) > 0 {
				require.Error(t, err)
				var bad []string
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *FieldError
					require.True(t, errors.As(e, &fe))
					bad = append(bad, fe.Field)
				}
				assert.Equal(t, tc.fields, bad)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// bigCost is Cost computed independently with arbitrary precision.
func bigCost(p Price, u Usage) int64 {
	sum := new(big.Int)
	add := func(n, rate int64) {
		if n > 0 {
			sum.Add(sum, new(big.Int).Mul(big.NewInt(n), big.NewInt(rate)))
		}
	}
	add(u.Prompt-max(u.Cached, 0)-max(u.CacheWrite, 0), p.Input)
	add(u.Cached, p.CachedInput)
	add(u.CacheWrite, p.CacheWrite)
	add(u.Completion-max(u.Reasoning, 0), p.Output)
	add(u.Reasoning, p.Reasoning)
	q, r := new(big.Int).QuoRem(sum, big.NewInt(1_000_000), new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	q.Add(q, big.NewInt(p.Request))
	if q.Cmp(big.NewInt(MaxCost)) > 0 {
		return MaxCost
	}
	return q.Int64()
}

func TestCost(t *testing.T) {
	t.Parallel()
	gpt4o := mustPrice(t, Rates{Input: "2.50", CachedInput: "1.25", Output: "10"})
	sonnet := mustPrice(t, Rates{Input: "3", CachedInput: "0.30", CacheWrite: "3.75", Output: "15"})
	o3 := mustPrice(t, Rates{Input: "1.10", CachedInput: "0.55", Output: "4.40", Reasoning: "8.80", Request: "0.002"})
	cases := []struct {
		name  string
		price Price
		u     Usage
		want  int64
	}{
		{name: "plain", price: gpt4o, u: Usage{Prompt: 1000, Completion: 500}, want: 2500 + 5000},
		{name: "cached tokens at the cached rate", price: gpt4o, u: Usage{Prompt: 1000, Cached: 400, Completion: 0}, want: 1500 + 500},
		{name: "rounds up", price: gpt4o, u: Usage{Prompt: 1}, want: 3},
		{name: "zero usage costs nothing", price: gpt4o, u: Usage{}, want: 0},
		{name: "anthropic cache read and write", price: sonnet,
			u: Usage{Prompt: 10_000, Cached: 6000, CacheWrite: 2000, Completion: 100}, want: 6000 + 1800 + 7500 + 1500},
		{name: "reasoning at its own rate and the fee", price: o3,
			u: Usage{Prompt: 1000, Completion: 1000, Reasoning: 600}, want: 1100 + 1760 + 5280 + 2000},
		{name: "reasoning above completion is not negative", price: o3,
			u: Usage{Completion: 10, Reasoning: 20}, want: 2000 + 176},
		{name: "negative counts are zero", price: gpt4o, u: Usage{Prompt: -5, Completion: -5}, want: 0},
		{name: "saturates", price: mustPrice(t, Rates{Input: "1000000", Output: "1000000"}),
			u: Usage{Prompt: math.MaxInt64, Completion: math.MaxInt64}, want: MaxCost},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.price.Cost(tc.u)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, bigCost(tc.price, tc.u), got, "differs from the arbitrary-precision sum")
		})
	}
}

func TestWorstCostBoundsCost(t *testing.T) {
	t.Parallel()
	sonnet := mustPrice(t, Rates{Input: "3", CachedInput: "0.30", CacheWrite: "3.75", Output: "15", Reasoning: "20", Request: "0.001"})
	for _, u := range []Usage{
		{Prompt: 100, Completion: 100},
		{Prompt: 100, CacheWrite: 100, Completion: 100, Reasoning: 100},
		{Prompt: 100, Cached: 50, CacheWrite: 50, Completion: 77, Reasoning: 3},
	} {
		assert.LessOrEqual(t, sonnet.Cost(u), sonnet.WorstCost(u.Prompt, u.Completion), "%+v", u)
	}
}

func TestMaxOutput(t *testing.T) {
	t.Parallel()
	gpt4o := mustPrice(t, Rates{Input: "2.50", CachedInput: "1.25", Output: "10", Request: "0.0001"})
	free := mustPrice(t, Rates{Input: "0.02", Output: "0"})
	cases := []struct {
		name                  string
		price                 Price
		budget, prompt, limit int64
		want                  int64
	}{
		{name: "one dollar, 1000-token prompt", price: gpt4o, budget: 1_000_000, prompt: 1000, limit: 1 << 40,
			want: (1_000_000 - 100 - 2500) * 1_000_000 / 10_000_000},
		{name: "capped by limit", price: gpt4o, budget: 1_000_000, prompt: 1000, limit: 4096, want: 4096},
		{name: "prompt alone does not fit", price: gpt4o, budget: 2000, prompt: 1000, limit: 100, want: 0},
		{name: "fee alone does not fit", price: gpt4o, budget: 50, prompt: 0, limit: 100, want: 0},
		{name: "free output", price: free, budget: 100, prompt: 1000, limit: 77, want: 77},
		{name: "huge budget", price: gpt4o, budget: MaxCost, prompt: 0, limit: 1 << 60, want: (MaxCost - 100) / 10},
		{name: "zero limit", price: gpt4o, budget: MaxCost, prompt: 0, limit: 0, want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.price.MaxOutput(tc.budget, tc.prompt, tc.limit)
			assert.Equal(t, tc.want, got)
			if got > 0 {
				assert.LessOrEqual(t, tc.price.WorstCost(tc.prompt, got), tc.budget, "the output it allows costs more than the budget")
			}
			if got > 0 && got < tc.limit && tc.budget < MaxCost { // WorstCost saturates at MaxCost
				assert.Greater(t, tc.price.WorstCost(tc.prompt, got+1), tc.budget, "one more token would still fit")
			}
		})
	}
}

func TestDefaultsCoverTheExamples(t *testing.T) {
	t.Parallel()
	d := Defaults()
	for _, m := range []string{"gpt-4o", "gpt-4o-mini", "o3-mini", "o4-mini", "claude-opus-4-6", "claude-sonnet-4-6",
		"claude-haiku-4-5", "llama-3.3-70b-versatile", "llama-3.1-8b-instant", "mistral-large-latest", "mistral-small-latest"} {
		p, ok := d[m]
		require.True(t, ok, "no default price for %s", m)
		assert.Positive(t, p.Input, m)
		assert.Positive(t, p.Output, m)
		assert.LessOrEqual(t, p.CachedInput, p.Input, m)
	}
}

func TestTableLookup(t *testing.T) {
	t.Parallel()
	own := mustPrice(t, Rates{Input: "9", Output: "9"})
	wide := mustPrice(t, Rates{Input: "1", Output: "2"})
	tb := NewTable(map[string]Price{"gpt-4o": wide, "local": wide}, map[string]map[string]Price{"azure": {"gpt-4o": own}}, false)
	cases := []struct {
		name, provider, model string
		want                  Price
		ok                    bool
	}{
		{name: "provider entry wins", provider: "azure", model: "gpt-4o", want: own, ok: true},
		{name: "model-wide replaces the default", provider: "openai", model: "gpt-4o", want: wide, ok: true},
		{name: "default", provider: "openai", model: "gpt-4o-mini", want: Defaults()["gpt-4o-mini"], ok: true},
		{name: "operator-only model", provider: "x", model: "local", want: wide, ok: true},
		{name: "unknown", provider: "openai", model: "gpt-9", ok: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, name, ok := tb.Lookup(tc.provider, tc.model)
			require.Equal(t, tc.ok, ok)
			if ok {
				assert.Equal(t, tc.want, got)
				assert.Equal(t, tc.model, name)
			}
		})
	}
	_, _, ok := NewTable(nil, nil, true).Lookup("openai", "gpt-4o")
	assert.False(t, ok, "noDefaults still priced a default model")
	_, _, ok = (*Table)(nil).Lookup("openai", "gpt-4o")
	assert.False(t, ok)
}

func TestLookupAndCostDoNotAllocate(t *testing.T) {
	tb := NewTable(nil, nil, false)
	u := Usage{Prompt: 1000, Cached: 10, Completion: 100, Reasoning: 5}
	var sink int64
	allocs := testing.AllocsPerRun(100, func() {
		p, _, _ := tb.Lookup("openai", "gpt-4o-mini")
		sink += p.Cost(u) + p.WorstCost(1000, 100) + p.MaxOutput(1_000_000, 1000, 4096)
	})
	assert.Zero(t, allocs)
	_ = sink
}
