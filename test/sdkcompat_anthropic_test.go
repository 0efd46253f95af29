package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
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

// TestSDKCompatAnthropicErrors checks that every refusal on an Anthropic
// path, by either spelling, is in Anthropic's error shape with the right
// status and type, including those given before an endpoint is known.
// Known gap: a chunked body over the limit gets the OpenAI shape, because
// fasthttp clears the request line before its error handler runs.
func TestSDKCompatAnthropicErrors(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "", "TOKENOMICS_SERVER_MAX_BODY_BYTES=4096")
	tok, _ := px.token(t, `{"model_regex":"^claude-haiku","max_tokens":50000}`)
	msg := func(model, text string) string {
		return `{"model":"` + model + `","max_tokens":10,"messages":[{"role":"user","content":"` + text + `"}]}`
	}
	cases := []struct {
		name, method, sub, body, tok string
		status                       int
		typ                          string
	}{
		{name: "no token", sub: "", body: msg("claude-haiku-4-5", "x"), status: 401, typ: "authentication_error"},
		{name: "model not allowed", sub: "", body: msg("claude-sonnet-4-6", "x"), tok: tok, status: 403, typ: "permission_error"},
		{name: "get", method: "GET", sub: "", tok: tok, status: 405, typ: "invalid_request_error"},
		{name: "unknown sub-path", sub: "/nothing", body: msg("claude-haiku-4-5", "x"), tok: tok, status: 404, typ: "not_found_error"},
		{name: "body too large", sub: "", body: msg("claude-haiku-4-5", strings.Repeat("a", 6000)), tok: tok, status: 413, typ: "request_too_large"},
	}
	for _, root := range []string{"/v1/messages", "/messages"} {
		for _, tc := range cases {
			t.Run(root+" "+tc.name, func(t *testing.T) {
				method := tc.method
				if method == "" {
					method = "POST"
				}
				var rd io.Reader
				if tc.body != "" {
					rd = strings.NewReader(tc.body) // sized: SDKs send Content-Length
				}
				req, err := http.NewRequest(method, px.url+root+tc.sub, rd)
				require.NoError(t, err)
				req.Header.Set("anthropic-version", "2023-06-01")
				req.Header.Set("Content-Type", "application/json")
				if tc.tok != "" {
					req.Header.Set("x-api-key", tc.tok)
				}
				resp, err := pxClient.Do(req)
				require.NoError(t, err)
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				require.Equal(t, tc.status, resp.StatusCode, string(body))
				typ, m := sdkAnthropicError(t, body)
				assert.Equal(t, tc.typ, typ, string(body))
				assert.NotEmpty(t, m)
			})
		}
	}
	assert.Empty(t, px.fake.Requests(), "a refused request reached the upstream")
}

// sdkAnthropicError decodes Anthropic's error shape
// {"type":"error","error":{"type","message"}} and fails on anything else.
func sdkAnthropicError(t *testing.T, body []byte) (typ, msg string) {
	t.Helper()
	var out struct {
		Type  string `json:"type"`
		Error *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &out), string(body))
	require.Equal(t, "error", out.Type, "not Anthropic's error shape: %s", body)
	require.NotNil(t, out.Error, "no error object: %s", body)
	return out.Error.Type, out.Error.Message
}
