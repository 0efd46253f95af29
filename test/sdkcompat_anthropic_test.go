package test

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSDKCompatAnthropicBaseURL checks that the ANTHROPIC_BASE_URL `init`
// prints serves both SDK families: the official Anthropic SDKs post to
// $BASE/v1/messages, @ai-sdk/anthropic to $BASE/messages.
func TestSDKCompatAnthropicBaseURL(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"max_tokens":100000}`)
	u, err := url.Parse(px.url)
	require.NoError(t, err)

	res := run(t, px.dir, px.env, "init", "--token", tok, "--host", u.Hostname(), "--port", u.Port(),
		"--insecure", "--provider", "anthropic", "--output", "json")
	require.Equal(t, 0, res.code, res.stderr)
	var vars map[string]string
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &vars), res.stdout)
	base := vars["ANTHROPIC_BASE_URL"]
	require.Equal(t, px.url, base, "the proxy's root: the SDKs add the API path")

	body := `{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"hello"}]}`
	for _, tc := range []struct{ sdk, path string }{
		{"@anthropic-ai/sdk", "/v1/messages"},
		{"@ai-sdk/anthropic", "/messages"},
	} {
		r := pxDo(t, "POST", base+tc.path, body, "x-api-key", tok, "anthropic-version", "2023-06-01")
		require.Equal(t, 200, r.status, "%s posts to %s: %s", tc.sdk, tc.path, r.body)
		a := pxReadMessages(t, r.body)
		assert.NotEmpty(t, a.text, tc.sdk)
		assert.Equal(t, "end_turn", a.finish, tc.sdk)
		last := px.fake.Requests()
		require.NotEmpty(t, last)
		assert.Equal(t, "/v1/messages", last[len(last)-1].Path, "%s: forwarded to the provider's messages path", tc.sdk)
	}
}
