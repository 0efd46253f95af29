package fakeupstream

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	chat := chatBody(t, "hi", nil)
	msg := anthropicBody(t, "hi", nil)
	tests := []struct {
		name      string
		path      string
		hdr       map[string]string
		body      string
		status    int
		anthropic bool
		errType   string
		code      string
	}{
		{name: "openai ok", path: "/v1/chat/completions", hdr: openAIHeaders(), body: chat, status: 200},
		{name: "openai missing", path: "/v1/chat/completions", body: chat, status: 401, errType: "invalid_request_error"},
		{name: "openai wrong", path: "/v1/chat/completions", hdr: map[string]string{"Authorization": "Bearer sk-wrong"}, body: chat,
			status: 401, errType: "invalid_request_error", code: "invalid_api_key"},
		{name: "openai not bearer", path: "/v1/chat/completions", hdr: map[string]string{"Authorization": testOpenAIKey}, body: chat,
			status: 401, errType: "invalid_request_error", code: "invalid_api_key"},
		{name: "openai anthropic key", path: "/v1/embeddings", hdr: map[string]string{"Authorization": "Bearer " + testAnthropicKey},
			body: `{"model":"e","input":"x"}`, status: 401, errType: "invalid_request_error", code: "invalid_api_key"},
		{name: "anthropic ok", path: "/v1/messages", hdr: anthropicHeaders(), body: msg, status: 200, anthropic: true},
		{name: "anthropic missing key", path: "/v1/messages", hdr: map[string]string{"anthropic-version": "2023-06-01"}, body: msg,
			status: 401, anthropic: true, errType: "authentication_error"},
		{name: "anthropic wrong key", path: "/v1/messages", hdr: map[string]string{"x-api-key": "nope", "anthropic-version": "2023-06-01"}, body: msg,
			status: 401, anthropic: true, errType: "authentication_error"},
		{name: "anthropic bearer only", path: "/v1/messages", hdr: map[string]string{"Authorization": "Bearer " + testAnthropicKey, "anthropic-version": "2023-06-01"},
			body: msg, status: 401, anthropic: true, errType: "authentication_error"},
		{name: "anthropic missing version", path: "/v1/messages", hdr: map[string]string{"x-api-key": testAnthropicKey}, body: msg,
			status: 400, anthropic: true, errType: "invalid_request_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := do(t, http.MethodPost, url+tc.path, tc.hdr, tc.body)
			require.Equal(t, tc.status, res.status, "%s", res.body)
			if tc.status == 200 {
				return
			}
			assert.NotContains(t, string(res.body), "sk-wrong", "the key is never echoed")
			if tc.anthropic {
				var e anError
				decodeStrict(t, res.body, &e)
				assert.Equal(t, "error", e.Type)
				assert.Equal(t, tc.errType, e.Error.Type)
				return
			}
			var e oaError
			decodeStrict(t, res.body, &e)
			assert.Equal(t, tc.errType, e.Error.Type)
			if tc.code == "" {
				assert.Nil(t, e.Error.Code)
			} else {
				require.NotNil(t, e.Error.Code)
				assert.Equal(t, tc.code, *e.Error.Code)
			}
		})
	}
}

func TestAuthDisabledWithEmptyKeys(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	url, err := s.Start("")
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	assert.Equal(t, 200, do(t, http.MethodPost, url+"/v1/chat/completions", nil, chatBody(t, "hi", nil)).status)
	// anthropic-version is still required.
	assert.Equal(t, 400, do(t, http.MethodPost, url+"/v1/messages", nil, anthropicBody(t, "hi", nil)).status)
	assert.Equal(t, 200, do(t, http.MethodPost, url+"/v1/messages", map[string]string{"anthropic-version": "2023-06-01"},
		anthropicBody(t, "hi", nil)).status)
}
