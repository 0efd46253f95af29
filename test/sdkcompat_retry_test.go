package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSDKCompatRetryHints checks the headers the OpenAI and Anthropic SDKs
// read before retrying a 429: a budget refusal that can never succeed says
// x-should-retry: false and no Retry-After; a full rate window keeps
// Retry-After and lets the SDK retry.
func TestSDKCompatRetryHints(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	small, _ := px.token(t, `{"max_tokens":50}`)
	rated, _ := px.token(t, `{"max_tokens":100000,"rate_limit":{"rules":[{"requests":1,"window":"1m"}]}}`)
	chat := pxChat("gpt-4o", "hello", false, `"max_tokens":100`)
	// A prompt whose bound alone exceeds the whole budget: the proxy cannot
	// clamp the output cap to make it fit, so it refuses for good.
	long := strings.Repeat("hello ", 120)
	bigChat := pxChat("gpt-4o", long, false, "")
	bigMsgs := `{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"` + long + `"}]}`

	for _, c := range []struct{ path, body string }{{"/v1/chat/completions", bigChat}, {"/v1/messages", bigMsgs}} {
		r := pxPost(t, px.url+c.path, small, c.body)
		require.Equal(t, 429, r.status, "%s: %s", c.path, r.body)
		assert.Contains(t, string(r.body), "budget_exceeded", c.path)
		assert.Equal(t, "false", r.header.Get("X-Should-Retry"), "%s: a lifetime budget never frees", c.path)
		assert.Empty(t, r.header.Get("Retry-After"), c.path)
	}

	r := pxPost(t, px.url+"/v1/chat/completions", rated, chat)
	require.Equal(t, 200, r.status, string(r.body))
	r = pxPost(t, px.url+"/v1/chat/completions", rated, chat)
	require.Equal(t, 429, r.status, string(r.body))
	assert.Contains(t, string(r.body), "rate_limit_exceeded")
	assert.NotEmpty(t, r.header.Get("Retry-After"), "a window frees: the SDK may wait and retry")
	assert.Empty(t, r.header.Get("X-Should-Retry"))
}
