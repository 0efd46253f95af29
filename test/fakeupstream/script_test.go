package fakeupstream

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScriptFIFO(t *testing.T) {
	t.Parallel()
	s, url := startServer(t, Options{})
	require.NoError(t, s.Script(
		Scripted{Status: 503},
		Scripted{Status: 429, RetryAfter: "3"},
		Scripted{Status: 200},
	))
	assert.Equal(t, 3, s.Pending())
	want := []int{503, 429, 200, 200}
	for i, status := range want {
		res := postOpenAI(t, url, "/v1/chat/completions", chatBody(t, "hi", nil))
		require.Equal(t, status, res.status, "request %d", i)
		if status == 429 {
			assert.Equal(t, "3", res.header.Get("Retry-After"))
			assert.Equal(t, "3s", res.header.Get("x-ratelimit-reset-tokens"))
		}
	}
	assert.Zero(t, s.Pending())
}

func TestScriptPerModel(t *testing.T) {
	t.Parallel()
	s, url := startServer(t, Options{})
	require.NoError(t, s.Script(Scripted{Model: "claude-sonnet-4-5", Status: 529}, Scripted{Status: 500}))
	chatModel := func(model string) int {
		return postOpenAI(t, url, "/v1/chat/completions", chatBody(t, "hi", map[string]any{"model": model})).status
	}
	// gpt-4o takes the any-model entry; the Claude entry waits for its model.
	assert.Equal(t, 500, chatModel("gpt-4o"))
	assert.Equal(t, 200, chatModel("gpt-4o"))
	assert.Equal(t, 1, s.Pending())
	res := postAnthropic(t, url, anthropicBody(t, "hi", nil))
	require.Equal(t, 529, res.status)
	var e anError
	decodeStrict(t, res.body, &e)
	assert.Equal(t, "overloaded_error", e.Error.Type)
	assert.Zero(t, s.Pending())
}

func TestScriptFaultsAndBody(t *testing.T) {
	t.Parallel()
	s, url := startServer(t, Options{})
	require.NoError(t, s.Script(
		Scripted{Fault: "nousage"},
		Scripted{Status: 400, Body: `{"error":{"message":"custom","type":"invalid_request_error","param":null,"code":"x"}}`,
			Header: map[string]string{"X-Extra": "yes"}},
		Scripted{Status: 503, Delay: 20 * time.Millisecond},
	))
	res := postOpenAI(t, url, "/v1/chat/completions", chatBody(t, "hi", nil))
	require.Equal(t, 200, res.status)
	assert.NotContains(t, string(res.body), `"usage"`)

	res = postOpenAI(t, url, "/v1/chat/completions", chatBody(t, "hi", nil))
	require.Equal(t, 400, res.status)
	assert.Equal(t, "yes", res.header.Get("X-Extra"))
	var e oaError
	decodeStrict(t, res.body, &e)
	assert.Equal(t, "custom", e.Error.Message)

	start := time.Now()
	res = postOpenAI(t, url, "/v1/chat/completions", chatBody(t, "hi", nil))
	require.Equal(t, 503, res.status)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}

func TestScriptInvalid(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	tests := []struct {
		name  string
		entry Scripted
	}{
		{name: "status", entry: Scripted{Status: 99}},
		{name: "fault", entry: Scripted{Fault: "explode"}},
		{name: "delay", entry: Scripted{Delay: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, s.Script(tc.entry), ErrScript)
		})
	}
	assert.Zero(t, s.Pending())
}

func TestScriptModelsEndpointDoesNotConsume(t *testing.T) {
	t.Parallel()
	s, url := startServer(t, Options{})
	require.NoError(t, s.Script(Scripted{Status: 503}))
	res := do(t, http.MethodGet, url+"/v1/models", openAIHeaders(), "")
	require.Equal(t, 200, res.status)
	assert.Equal(t, 1, s.Pending())
}

func TestControlAPI(t *testing.T) {
	t.Parallel()
	s, url := startServer(t, Options{})
	res := do(t, http.MethodPost, url+"/_fake/script", nil,
		`{"responses":[{"status":503},{"status":429,"retry_after":"1"},{"status":200,"fault":"truncate","delay":"1ms"}]}`)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.JSONEq(t, `{"queued":3,"pending":3}`, string(res.body))

	res = do(t, http.MethodPost, url+"/_fake/script", nil, `{"model":"gpt-4o","responses":[{"status":500}]}`)
	require.Equal(t, http.StatusOK, res.status)
	// The model entry comes first for its model.
	assert.Equal(t, 500, postOpenAI(t, url, "/v1/chat/completions", chatBody(t, "hi", nil)).status)
	assert.Equal(t, 503, postOpenAI(t, url, "/v1/chat/completions", chatBody(t, "hi", nil)).status)
	assert.Equal(t, 2, s.Pending())

	res = do(t, http.MethodGet, url+"/_fake/requests", nil, "")
	require.Equal(t, http.StatusOK, res.status)
	var reqs []requestWire
	decodeStrict(t, res.body, &reqs)
	require.Len(t, reqs, 2, "control calls are not recorded")
	assert.Equal(t, "/v1/chat/completions", reqs[0].Path)
	assert.Contains(t, reqs[0].Body, `"model":"gpt-4o"`)

	res = do(t, http.MethodPost, url+"/_fake/reset", nil, "")
	require.Equal(t, http.StatusNoContent, res.status)
	assert.Zero(t, s.Pending())
	assert.Empty(t, s.Requests())

	for _, bad := range []string{`{"responses":[{"status":42}]}`, `{"responses":[{"delay":"soon"}]}`, `{"nope":1}`, `{`} {
		res = do(t, http.MethodPost, url+"/_fake/script", nil, bad)
		assert.Equal(t, http.StatusBadRequest, res.status, bad)
	}
	assert.Equal(t, http.StatusOK, do(t, http.MethodGet, url+"/_fake/health", nil, "").status)
	assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, url+"/_fake/nope", nil, "").status)
}
