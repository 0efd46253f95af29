package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCountTokensRateLimited: a native count_tokens call sends the client's
// text to the provider under the operator's key, so it is admitted by the
// token's request windows like a request. Once the window is spent, counts
// are refused (429) and none reaches the provider.
func TestCountTokensRateLimited(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"model_regex":"^claude","max_tokens":100000,"rate_limit":{"rules":[{"requests":1,"window":"1h"}],"max_parallel":1}}`)

	first := pxDo(t, "POST", px.url+"/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`,
		"x-api-key", tok, "anthropic-version", "2023-06-01")
	require.Equal(t, 200, first.status, string(first.body))
	second := pxDo(t, "POST", px.url+"/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`,
		"x-api-key", tok, "anthropic-version", "2023-06-01")
	require.Equal(t, 429, second.status, "the window is spent: %s", second.body)

	counted := func() int {
		n := 0
		for _, r := range px.fake.Requests() {
			if strings.HasSuffix(r.Path, "/count_tokens") {
				n++
			}
		}
		return n
	}
	before := counted()
	const tries = 20
	got429 := 0
	for i := 0; i < tries; i++ {
		r := countTokens(t, px.url+"/v1/messages/count_tokens", tok, countBody("claude-sonnet-4-6", "arbitrary prompt text "+strings.Repeat("x", i)))
		if r.status == 429 {
			got429++
			if i == 0 {
				assert.Contains(t, string(r.body), `"type":"error"`, "Anthropic shape")
				assert.Contains(t, string(r.body), "rate_limit_exceeded")
				assert.NotEmpty(t, r.header.Get("Retry-After"))
			}
		}
	}
	assert.Equal(t, tries, got429, "a token whose rate window is spent must not reach the provider through count_tokens")
	assert.Equal(t, before, counted(), "count_tokens calls reached the provider past the token's rate limit")
}

// TestCountTokensTakesRequestSlot: a native count takes a request from the
// token's requests window (the next request is refused), while an estimated
// count, which reaches no provider, stays free.
func TestCountTokensTakesRequestSlot(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"model_regex":"^(claude|gpt)","max_tokens":100000,"rate_limit":{"rules":[{"requests":1,"window":"1h"}]}}`)

	for i := 0; i < 3; i++ {
		r := countTokens(t, px.url+"/v1/messages/count_tokens", tok, countBody("gpt-4o", "estimated"))
		require.Equal(t, 200, r.status, string(r.body))
		assert.Equal(t, "estimate", r.header.Get("X-Tokenomics-Token-Count"))
	}
	r := countTokens(t, px.url+"/v1/messages/count_tokens", tok, countBody("claude-sonnet-4-6", "native"))
	require.Equal(t, 200, r.status, "estimates took no request: %s", r.body)
	assert.Equal(t, "native", r.header.Get("X-Tokenomics-Token-Count"))
	next := pxDo(t, "POST", px.url+"/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`,
		"x-api-key", tok, "anthropic-version", "2023-06-01")
	assert.Equal(t, 429, next.status, "the native count took the window's request: %s", next.body)
}
