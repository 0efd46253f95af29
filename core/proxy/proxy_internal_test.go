package proxy

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// serveInMemory runs s on an in-memory listener and returns a client for it.
func serveInMemory(tb testing.TB, s *Server) *fasthttp.Client {
	tb.Helper()
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = s.Serve(ln) }()
	tb.Cleanup(func() {
		_ = s.srv.Shutdown()
		_ = ln.Close()
	})
	return &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConnsPerHost: 512}
}

// TestInProcessChat is the benchmark's path, checked: a non-streamed chat
// through an in-process Server is answered unchanged and charged exactly
// the upstream's usage.
func TestInProcessChat(t *testing.T) {
	t.Parallel()
	s, tok, lim := newTestServer(t, fixedUpstream(t), `{"max_tokens":1000000}`)
	c := serveInMemory(t, s)
	cases := []struct {
		name   string
		auth   string
		body   []byte
		status int
		used   int64
	}{
		{"answered and charged", "Bearer " + tok, chatRequest1KB, 200, 414},
		{"unknown token", "Bearer tkn_nope", chatRequest1KB, 401, 414},
		{"second call adds up", "Bearer " + tok, chatRequest1KB, 200, 828},
	}
	for _, tc := range cases {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://proxy/v1/chat/completions")
		req.Header.SetMethod("POST")
		req.Header.Set("Authorization", tc.auth)
		req.SetBody(tc.body)
		require.NoError(t, c.DoTimeout(req, resp, 10*time.Second), tc.name)
		require.Equal(t, tc.status, resp.StatusCode(), "%s: %s", tc.name, resp.Body())
		if tc.status == 200 {
			assert.Equal(t, string(chatAnswer), string(resp.Body()), tc.name)
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		used, reserved := spent(t, s, lim, tok)
		assert.Equal(t, tc.used, used, tc.name)
		assert.Zero(t, reserved, tc.name)
	}
}

// TestIsUsageOnly: the usage chunk the proxy asked for on the client's
// behalf is dropped whatever the upstream's JSON spacing; OpenAI-compatible
// servers written in Python (json.dumps) put a space after ':' and ','.
func TestIsUsageOnly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		data string
		want bool
	}{
		{"openai compact", `{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`, true},
		{"spaced like json.dumps", `{"id": "c", "object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}`, true},
		{"pretty printed", "{\n  \"choices\": [ ],\n  \"usage\": {\n    \"prompt_tokens\": 3\n  }\n}", true},
		{"content chunk with null usage", `{"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}`, false},
		{"finish chunk", `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`, false},
		{"text mentioning the markers", `{"choices":[{"index":0,"delta":{"content":"\"choices\":[] and \"usage\":{"}}],"usage":null}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, isUsageOnly([]byte(tc.data)))
		})
	}
}

// TestClientToken: where the proxy finds a client's token.
func TestClientToken(t *testing.T) {
	t.Parallel()
	const tok = "tkn_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	cases := []struct {
		name   string
		header [][2]string
		want   string
	}{
		{"bearer", [][2]string{{"Authorization", "Bearer " + tok}}, tok},
		{"bearer any case, padded", [][2]string{{"Authorization", "BEARER   " + tok + " "}}, tok},
		{"raw", [][2]string{{"Authorization", tok}}, tok},
		{"x-api-key", [][2]string{{"x-api-key", tok}}, tok},
		{"none", nil, ""},
		{"basic auth is not a token", [][2]string{{"Authorization", "Basic dXNlcjpwYXNz"}}, ""},
		{"bearer wins over x-api-key", [][2]string{{"Authorization", "Bearer " + tok}, {"x-api-key", "other"}}, tok},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h fasthttp.RequestHeader
			for _, kv := range tc.header {
				h.Set(kv[0], kv[1])
			}
			assert.Equal(t, tc.want, string(clientToken(&h)))
		})
	}
}

// TestRetryAfter: both header forms OpenAI and Anthropic send.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		header [][2]string
		want   time.Duration
	}{
		{"none", nil, 0},
		{"seconds", [][2]string{{"Retry-After", "7"}}, 7 * time.Second},
		{"fractional seconds", [][2]string{{"Retry-After", "0.5"}}, 500 * time.Millisecond},
		{"milliseconds win", [][2]string{{"retry-after-ms", "250"}, {"Retry-After", "1"}}, 250 * time.Millisecond},
		{"garbage", [][2]string{{"Retry-After", "soon"}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h fasthttp.ResponseHeader
			for _, kv := range tc.header {
				h.Set(kv[0], kv[1])
			}
			assert.Equal(t, tc.want, retryAfter(&h))
		})
	}
}
