package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/pricing"
)

func TestLoadPricing(t *testing.T) {
	t.Parallel()
	const providers = `
pricing:
  gpt-4o: {input: 2.00, output: 8}
  house-model: {input: "0.10", cached_input: 0.05, output: 0.40, request: 0.001}
providers:
  azure:
    upstream_url: https://example.openai.azure.com
    api_key_env: AZURE_KEY
    models: [gpt-4o]
    pricing:
      gpt-4o: {input: 2.75, cached_input: 1.375, output: 11}
`
	c, err := Load(writeConfig(t, "server:\n  upstream_url: https://llm.internal\n", providers), LoadOptions{Environ: noEnv})
	require.NoError(t, err)
	tb, err := c.PriceTable()
	require.NoError(t, err)

	cases := []struct {
		name, provider, model string
		want                  pricing.Price
		ok                    bool
	}{
		{name: "provider's own price", provider: "azure", model: "gpt-4o", ok: true,
			want: pricing.Price{Input: 2_750_000, CachedInput: 1_375_000, CacheWrite: 2_750_000, Output: 11_000_000, Reasoning: 11_000_000}},
		{name: "top-level replaces the default whole", provider: "openai", model: "gpt-4o", ok: true,
			want: pricing.Price{Input: 2_000_000, CachedInput: 2_000_000, CacheWrite: 2_000_000, Output: 8_000_000, Reasoning: 8_000_000}},
		{name: "operator's model with a fee", provider: "generic", model: "house-model", ok: true,
			want: pricing.Price{Input: 100_000, CachedInput: 50_000, CacheWrite: 100_000, Output: 400_000, Reasoning: 400_000, Request: 1000}},
		{name: "shipped default", provider: "anthropic", model: "claude-haiku-4-5", ok: true,
			want: pricing.Defaults()["claude-haiku-4-5"]},
		{name: "unpriced", provider: "openai", model: "gpt-9", ok: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _, ok := tb.Lookup(tc.provider, tc.model)
			require.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestLoadPricingErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, providers string
		fields          []string
	}{
		{name: "missing output", providers: "pricing:\n  m: {input: 1}\n", fields: []string{"pricing.m.output"}},
		{name: "float rounding refused", providers: "pricing:\n  m: {input: 0.0000001, output: 1}\n", fields: []string{"pricing.m.input"}},
		{name: "exponent refused", providers: "pricing:\n  m: {input: 1e-6, output: 1}\n", fields: []string{"pricing.m.input"}},
		{name: "negative", providers: "pricing:\n  m: {input: -1, output: 1}\n", fields: []string{"pricing.m.input"}},
		{name: "unknown rate", providers: "pricing:\n  m: {input: 1, output: 1, cached: 1}\n", fields: []string{"pricing.m.cached"}},
		{name: "provider entry", providers: "providers:\n  openai:\n    upstream_url: https://api.openai.com\n    api_key_env: K\n    pricing:\n      gpt-4o: {input: x, output: 1}\n",
			fields: []string{"providers.openai.pricing.gpt-4o.input"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(writeConfig(t, "server:\n  upstream_url: https://llm.internal\n", tc.providers), LoadOptions{Environ: noEnv})
			require.Error(t, err)
			assert.Equal(t, tc.fields, fieldsOfErr(err))
		})
	}
}
