package test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSDKCompatUpstreamAuth: when the provider rejects the proxy's own key,
// the client gets a 502 naming the provider and the key's variable (never
// the key), in its own format, distinguishable from the 401 a bad client
// token gets.
func TestSDKCompatUpstreamAuth(t *testing.T) {
	t.Parallel()
	const openaiKey, anthropicKey = "sk-wrong-openai-9f3a7c", "sk-ant-wrong-2b8e4d"
	px := pxStart(t, "", "OPENAI_API_KEY="+openaiKey, "ANTHROPIC_API_KEY="+anthropicKey)
	tok, _ := px.token(t, `{"max_tokens":100000}`)
	msgs := `{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"hello"}]}`

	cases := []struct {
		name, path, body, keyEnv string
		anthropic                bool
	}{
		{"chat", "/v1/chat/completions", pxChat("gpt-4o", "hello", false, ""), "OPENAI_API_KEY", false},
		{"chat stream", "/v1/chat/completions", pxChat("gpt-4o", "hello", true, ""), "OPENAI_API_KEY", false},
		{"chat to claude", "/v1/chat/completions", pxChat("claude-haiku-4-5", "hello", false, ""), "ANTHROPIC_API_KEY", false},
		{"messages", "/v1/messages", msgs, "ANTHROPIC_API_KEY", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := pxPost(t, px.url+tc.path, tok, tc.body)
			require.Equal(t, 502, r.status, string(r.body))
			var msg string
			if tc.anthropic {
				typ, m := sdkAnthropicError(t, r.body)
				assert.Equal(t, "api_error", typ)
				msg = m
			} else {
				code, _, m := pxOpenAIError(t, r.body)
				assert.Equal(t, "upstream_auth_failed", code)
				msg = m
			}
			assert.Contains(t, msg, "api_key_env "+tc.keyEnv)
			assert.Contains(t, msg, "rejected the configured API key")
			assert.NotContains(t, string(r.body), openaiKey)
			assert.NotContains(t, string(r.body), anthropicKey)
		})
	}

	// A bad client token is still the proxy's own 401.
	r := pxPost(t, px.url+"/v1/chat/completions", "tkn_"+"not-a-real-token-000000000000000000000000", pxChat("gpt-4o", "hello", false, ""))
	require.Equal(t, 401, r.status, string(r.body))
	code, _, _ := pxOpenAIError(t, r.body)
	assert.Equal(t, "invalid_api_key", code)
}

// TestSDKCompatUpstreamForbidden: a provider's 403 for the configured key
// is the proxy's configuration problem too: 502, not the provider's 403.
func TestSDKCompatUpstreamForbidden(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"max_tokens":100000}`)
	r := pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "hello [[fake:403]]", false, ""))
	require.Equal(t, 502, r.status, string(r.body))
	code, _, msg := pxOpenAIError(t, r.body)
	assert.Equal(t, "upstream_auth_failed", code)
	assert.Contains(t, msg, "api_key_env OPENAI_API_KEY")
}
