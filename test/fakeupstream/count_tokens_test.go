package fakeupstream

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCountTokensEndpoint(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	count := func(t *testing.T, hdr map[string]string, method, body string) result {
		t.Helper()
		return do(t, method, url+countTokensPath, hdr, body)
	}
	msg := func(extra map[string]any) string {
		m := map[string]any{
			"model":    "claude-sonnet-4-5",
			"system":   "Be brief.",
			"messages": []map[string]any{{"role": "user", "content": "Count these words, please!"}},
		}
		for k, v := range extra {
			m[k] = v
		}
		return mustJSON(t, m)
	}
	cases := []struct {
		name    string
		method  string
		hdr     map[string]string
		body    string
		status  int
		errType string
		errMsg  string
		tokens  int
	}{
		{name: "system and one turn", body: msg(nil), status: 200,
			tokens: CountTokens("Be brief.") + CountTokens("Count these words, please!") + FramingPerMessage + FramingReply},
		{name: "blocks and turns", status: 200, body: mustJSON(t, map[string]any{
			"model": "claude-sonnet-4-5",
			"messages": []map[string]any{
				{"role": "user", "content": []map[string]any{{"type": "text", "text": "one two"}}},
				{"role": "assistant", "content": "three"},
				{"role": "user", "content": "four, five"},
			},
			"tools": []map[string]any{{"name": "get_weather", "input_schema": map[string]any{"type": "object"}}},
		}), tokens: 2 + 1 + 3 + 3*FramingPerMessage + FramingReply},
		{name: "max_tokens refused", body: msg(map[string]any{"max_tokens": 10}), status: 400,
			errType: "invalid_request_error", errMsg: "max_tokens: Extra inputs are not permitted"},
		{name: "stream refused", body: msg(map[string]any{"stream": true}), status: 400,
			errType: "invalid_request_error", errMsg: "stream: Extra inputs are not permitted"},
		{name: "model required", body: mustJSON(t, map[string]any{"messages": []map[string]any{{"role": "user", "content": "x"}}}),
			status: 400, errType: "invalid_request_error", errMsg: "model: Field required"},
		{name: "messages required", body: mustJSON(t, map[string]any{"model": "claude-sonnet-4-5"}),
			status: 400, errType: "invalid_request_error", errMsg: "messages: Field required"},
		{name: "bad key", hdr: map[string]string{"x-api-key": "nope", "anthropic-version": "2023-06-01"}, body: msg(nil),
			status: 401, errType: "authentication_error", errMsg: msgAnthropicBadKey},
		{name: "no version", hdr: map[string]string{"x-api-key": testAnthropicKey}, body: msg(nil),
			status: 400, errType: "invalid_request_error", errMsg: msgAnthropicNoVer},
		{name: "status directive", status: 429, errType: "rate_limit_error", body: mustJSON(t, map[string]any{
			"model": "claude-sonnet-4-5", "messages": []map[string]any{{"role": "user", "content": "hi [[fake:429]]"}}})},
		{name: "get refused", method: http.MethodGet, status: 405, errType: "invalid_request_error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hdr, method := tc.hdr, tc.method
			if hdr == nil {
				hdr = anthropicHeaders()
			}
			if method == "" {
				method = http.MethodPost
			}
			res := count(t, hdr, method, tc.body)
			require.NoError(t, res.err)
			require.Equal(t, tc.status, res.status, "%s", res.body)
			if tc.status == 200 {
				var got struct {
					InputTokens int `json:"input_tokens"`
				}
				decodeStrict(t, res.body, &got)
				assert.Equal(t, tc.tokens, got.InputTokens)
				return
			}
			var got struct {
				Type  string `json:"type"`
				Error struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
			}
			decodeStrict(t, res.body, &got)
			assert.Equal(t, "error", got.Type)
			assert.Equal(t, tc.errType, got.Error.Type)
			if tc.errMsg != "" {
				assert.Contains(t, got.Error.Message, tc.errMsg)
			}
		})
	}
}

// TestCountTokensEndpointMatchesMessages: the count equals the input_tokens a
// messages call with the same prompt reports, so tests can hold the
// proxy's native count against real usage.
func TestCountTokensEndpointMatchesMessages(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	created := postAnthropic(t, url, anthropicBody(t, "How many tokens is this, exactly?", nil))
	require.Equal(t, 200, created.status, "%s", created.body)
	var msg struct {
		Usage struct {
			InputTokens int `json:"input_tokens"`
		} `json:"usage"`
	}
	require.NoError(t, created.JSON(&msg))
	counted := do(t, http.MethodPost, url+countTokensPath, anthropicHeaders(), mustJSON(t, map[string]any{
		"model": "claude-sonnet-4-5", "system": "Be brief.",
		"messages": []map[string]any{{"role": "user", "content": "How many tokens is this, exactly?"}},
	}))
	require.Equal(t, 200, counted.status, "%s", counted.body)
	var got struct {
		InputTokens int `json:"input_tokens"`
	}
	require.NoError(t, counted.JSON(&got))
	assert.Equal(t, msg.Usage.InputTokens, got.InputTokens)
	assert.Positive(t, got.InputTokens)
}
