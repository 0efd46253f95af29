package fakeupstream

import (
	"bufio"
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartClose(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	assert.Empty(t, s.URL())
	require.NoError(t, s.Close(), "Close before Start")
	s = New(Options{})
	url, err := s.Start("")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:"))
	assert.Equal(t, url, s.URL())
	_, err = s.Start("")
	require.ErrorIs(t, err, ErrStarted)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
	_, err = rawClient.Get(url + "/_fake/health")
	require.Error(t, err, "closed server refuses connections")

	_, err = New(Options{}).Start("256.0.0.1:0")
	require.Error(t, err)
}

func TestRouting(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{MaxBodyBytes: 1024})
	tests := []struct {
		name      string
		method    string
		path      string
		hdr       map[string]string
		body      string
		status    int
		anthropic bool
	}{
		{name: "unknown path", method: http.MethodPost, path: "/v1/nope", hdr: openAIHeaders(), body: "{}", status: 404},
		{name: "unknown path anthropic", method: http.MethodPost, path: "/v1/nope", hdr: anthropicHeaders(), body: "{}", status: 404, anthropic: true},
		{name: "GET chat", method: http.MethodGet, path: "/v1/chat/completions", hdr: openAIHeaders(), status: 405},
		{name: "POST models", method: http.MethodPost, path: "/v1/models", hdr: openAIHeaders(), body: "{}", status: 405},
		{name: "too large", method: http.MethodPost, path: "/v1/chat/completions", hdr: openAIHeaders(),
			body: chatBody(t, strings.Repeat("x ", 1000), nil), status: 413},
		{name: "too large anthropic", method: http.MethodPost, path: "/v1/messages", hdr: anthropicHeaders(),
			body: anthropicBody(t, strings.Repeat("x ", 1000), nil), status: 413, anthropic: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := do(t, tc.method, url+tc.path, tc.hdr, tc.body)
			require.Equal(t, tc.status, res.status, "%s", res.body)
			if tc.anthropic {
				var e anError
				decodeStrict(t, res.body, &e)
				assert.Equal(t, "error", e.Type)
			} else {
				var e oaError
				decodeStrict(t, res.body, &e)
				assert.NotEmpty(t, e.Error.Message)
			}
		})
	}
}

// TestClientDisconnectMidStream checks that a client leaving a slow stream
// ends the handler and leaks no goroutine.
func TestClientDisconnectMidStream(t *testing.T) {
	s, url := startServer(t, Options{})
	before := runtime.NumGoroutine()
	for _, ep := range endpoints {
		ctx, cancel := context.WithCancel(context.Background())
		hdr := openAIHeaders()
		if ep.anthropic {
			hdr = anthropicHeaders()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+ep.path,
			strings.NewReader(ep.body(t, "[[fake:long=1000,slow=5ms]]", true)))
		require.NoError(t, err)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := rawClient.Do(req)
		require.NoError(t, err)
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		require.NoError(t, err)
		require.NotEmpty(t, line)
		require.Equal(t, 1, s.Active())
		cancel()
		_ = resp.Body.Close()
		require.Eventually(t, func() bool { return s.Active() == 0 }, 5*time.Second, 2*time.Millisecond, ep.name)
	}
	rawClient.CloseIdleConnections()
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 5*time.Second, 10*time.Millisecond,
		"goroutines: before %d, now %d", before, runtime.NumGoroutine())
}

func TestPredictMatchesServer(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			t.Parallel()
			user := "Predict me, please [[fake:cached=2,reasoning=3]]"
			body := ep.body(t, user, false)
			pred, err := Predict(ep.path, []byte(body))
			require.NoError(t, err)
			res := ep.post(t, url, user, false)
			require.Equal(t, 200, res.status)
			assert.Contains(t, string(res.body), pred.Text)
			assert.Equal(t, "Echo: Predict me, please", pred.Text)
			assert.Equal(t, CountTokens(pred.Text)+3, pred.CompletionTokens)
			assert.Equal(t, 3, pred.ReasoningTokens)
			assert.Equal(t, 2, pred.CachedTokens)
			switch {
			case ep.anthropic:
				var got anMessage
				decodeStrict(t, res.body, &got)
				assert.Equal(t, pred.PromptTokens-pred.CachedTokens, got.Usage.InputTokens)
				assert.Equal(t, pred.CompletionTokens, got.Usage.OutputTokens)
			case ep.path == "/v1/responses":
				var got responseObject
				decodeStrict(t, res.body, &got)
				assert.Equal(t, pred.PromptTokens, got.Usage.InputTokens)
				assert.Equal(t, pred.CompletionTokens, got.Usage.OutputTokens)
				assert.Equal(t, pred.ReasoningTokens, got.Usage.OutputTokensDetails.ReasoningTokens)
			default:
				var got struct {
					Usage oaUsage `json:"usage"`
				}
				require.NoError(t, res.JSON(&got))
				assert.Equal(t, pred.PromptTokens, got.Usage.PromptTokens)
				assert.Equal(t, pred.CompletionTokens, got.Usage.CompletionTokens)
				assert.Equal(t, pred.CachedTokens, got.Usage.PromptTokensDetails.CachedTokens)
			}
		})
	}
	_, err := Predict("/v1/unknown", []byte("{}"))
	require.ErrorIs(t, err, ErrUnknownPath)
	_, err = Predict("/v1/messages", []byte(`{"model":"x"}`))
	require.ErrorIs(t, err, ErrInvalidRequest)
	_, err = Predict("/v1/chat/completions", []byte(chatBody(t, "[[fake:zap]]", nil)))
	require.ErrorIs(t, err, ErrDirective)
}
