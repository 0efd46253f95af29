package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pxErrorShape checks an error body is the OpenAI shape with message and
// type strings and a code (a string, or null as OpenAI itself sends).
func pxErrorShape(t *testing.T, body []byte) (typ string, code any) {
	t.Helper()
	var out struct {
		Error map[string]any `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &out), string(body))
	require.NotNil(t, out.Error, "no error object: %s", body)
	msg, ok := out.Error["message"].(string)
	assert.True(t, ok && msg != "", "error.message: %s", body)
	typ, ok = out.Error["type"].(string)
	assert.True(t, ok && typ != "", "error.type: %s", body)
	code, ok = out.Error["code"]
	assert.True(t, ok, "error.code must be present (string or null): %s", body)
	return typ, code
}

// TestProxyRefusals: what the proxy refuses itself, before any upstream
// call: the OpenAI error shape, the right status and code, no upstream
// request and no budget consumed.
func TestProxyRefusals(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "", "TOKENOMICS_SERVER_MAX_BODY_BYTES=4096")
	tok, _ := px.token(t, `{"model_regex":"^gpt-4o","max_tokens":50000}`)
	big := func(n int) string { return pxChat("gpt-4o", strings.Repeat("a", n), false, "") }
	cases := []struct {
		name    string
		method  string
		path    string
		body    string
		chunked bool
		status  int
		code    string
		typ     string
	}{
		{name: "model not allowed", path: "/v1/chat/completions", body: pxChat("claude-sonnet-4-6", "no claude", false, ""), status: 403, code: "model_not_allowed", typ: "permission_error"},
		{name: "model not allowed on messages", path: "/v1/messages", body: `{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"no"}]}`, status: 403, code: "model_not_allowed", typ: "permission_error"},
		{name: "model not allowed on embeddings", path: "/v1/embeddings", body: `{"model":"text-embedding-3-small","input":"no"}`, status: 403, code: "model_not_allowed", typ: "permission_error"},
		{name: "untranslatable block to an openai model", path: "/v1/messages", body: `{"model":"gpt-4o","max_tokens":10,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]}`, status: 400, code: "unsupported_translation", typ: "invalid_request_error"},
		{name: "body over max_body_bytes", path: "/v1/chat/completions", body: big(6000), status: 413, code: "request_too_large", typ: "invalid_request_error"},
		{name: "chunked body over max_body_bytes", path: "/v1/chat/completions", body: big(6000), chunked: true, status: 413, code: "request_too_large", typ: "invalid_request_error"},
		{name: "body under max_body_bytes", path: "/v1/chat/completions", body: big(3000), status: 200},
		{name: "not json", path: "/v1/chat/completions", body: `{"model":`, status: 400, code: "invalid_json", typ: "invalid_request_error"},
		{name: "no model", path: "/v1/chat/completions", body: `{"messages":[{"role":"user","content":"x"}]}`, status: 400, code: "missing_model", typ: "invalid_request_error"},
		{name: "get on chat", method: "GET", path: "/v1/chat/completions", status: 405, code: "method_not_allowed", typ: "invalid_request_error"},
		{name: "unknown path", path: "/v1/nothing", body: `{}`, status: 404, code: "unknown_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(px.fake.Requests())
			method := tc.method
			if method == "" {
				method = "POST"
			}
			var rd io.Reader
			if tc.body != "" {
				rd = strings.NewReader(tc.body)
				if tc.chunked {
					rd = io.MultiReader(rd) // unknown length: sent chunked
				}
			}
			req, err := http.NewRequest(method, px.url+tc.path, rd)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			resp, err := pxClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode, string(body))
			if tc.status == 200 {
				return
			}
			code, typ, _ := pxOpenAIError(t, body)
			assert.Equal(t, tc.code, code)
			if tc.typ != "" {
				assert.Equal(t, tc.typ, typ)
			}
			assert.Len(t, px.fake.Requests(), before, "a refused request reached the upstream")
		})
	}
	b := pxUsage(t, px.url, tok)
	assert.Zero(t, b.Reserved)
	up := px.fake.Requests()
	require.Len(t, up, 1, "only the request under the size limit reached the upstream")
	assert.Equal(t, pxPredictTotal(t, up[0]), b.Used, "refusals consume nothing")
}

// TestProxyBodyTooLargeWhileWriting: a client still writing a body far
// over max_body_bytes when the proxy refuses it must get the 413, not a
// connection reset that loses it (the proxy should drain or half-close
// before closing). A race by nature: five tries must all see the 413.
func TestProxyBodyTooLargeWhileWriting(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "", "TOKENOMICS_SERVER_MAX_BODY_BYTES=4096")
	tok, _ := px.token(t, `{"max_tokens":50000}`)
	body := pxChat("gpt-4o", strings.Repeat("a", 16<<20), false, "")
	for i := range 5 {
		req, err := http.NewRequest("POST", px.url+"/v1/chat/completions", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := pxClient.Do(req)
		require.NoError(t, err, "try %d: the 413 was lost", i+1)
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, 413, resp.StatusCode, string(b))
		code, _, _ := pxOpenAIError(t, b)
		assert.Equal(t, "request_too_large", code)
	}
	assert.Empty(t, px.fake.Requests())
}

// TestProxyUpstreamDown: a provider nobody listens on is a 502 in the
// OpenAI shape, streamed or not, and nothing stays reserved.
func TestProxyUpstreamDown(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dead := fmt.Sprintf("http://127.0.0.1:%d", deadPort(t)) // bound, never listening: refused
	dir := newProxyDir(t, proxySetup{fakeURL: dead, port: port})
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	tok, _ := createToken(t, dir, env, `{"max_tokens":50000}`)
	cases := []struct{ name, path, body string }{
		{"chat", "/v1/chat/completions", pxChat("gpt-4o", "anyone?", false, "")},
		{"chat stream", "/v1/chat/completions", pxChat("gpt-4o", "anyone?", true, "")},
		{"translated chat", "/v1/chat/completions", pxChat("claude-sonnet-4-6", "anyone?", false, "")},
		{"messages stream", "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"x"}]}`},
		{"embeddings", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"x"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := pxPost(t, p.URL+tc.path, tok, tc.body)
			require.Equal(t, 502, r.status, string(r.body))
			assert.Contains(t, r.header.Get("Content-Type"), "application/json")
			code, typ, _ := pxOpenAIError(t, r.body)
			assert.Equal(t, "upstream_unreachable", code)
			want := "upstream_error"
			if tc.path == "/v1/messages" {
				want = "api_error" // Anthropic's error shape for Anthropic clients
			}
			assert.Equal(t, want, typ)
		})
	}
	b := pxUsage(t, p.URL, tok)
	assert.Zero(t, b.Used)
	assert.Zero(t, b.Reserved)
}

// TestProxyUpstreamFaults: broken, slow and refusing upstreams. Errors
// reach the client in its own format: the provider's OpenAI body as is,
// Anthropic errors translated for OpenAI clients and kept for Anthropic
// ones; a broken stream ends with an error event.
func TestProxyUpstreamFaults(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	cases := []struct {
		name   string
		path   string
		body   string
		status int
		// code is the proxy's own error code; "" checks a passed-on error.
		code string
		// anthropicShape: the client is an Anthropic one and gets that shape.
		anthropicShape bool
		upstreamType   string // the error type the client must see
		maxTime        time.Duration
		retryAfter     bool
		// charged: the request reached the provider, which bills it, before
		// the answer broke or timed out (see TestBudgetEdgesChargedFailures).
		charged bool
	}{
		{name: "openai 400 passed on", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:status=400]]", false, ""), status: 400, upstreamType: "invalid_request_error"},
		{name: "openai 404 passed on", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:status=404]]", false, ""), status: 404, upstreamType: "invalid_request_error"},
		{name: "openai 429 passed on with retry-after", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:429,retry_after=7]]", false, ""), status: 429, upstreamType: "requests", retryAfter: true},
		{name: "openai 503 passed on", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:503]]", false, ""), status: 503, upstreamType: "server_error"},
		{name: "openai stream 400 passed on", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:status=400]]", true, ""), status: 400, upstreamType: "invalid_request_error"},
		{name: "embeddings 400 passed on", path: "/v1/embeddings", body: `{"model":"text-embedding-3-small","input":"[[fake:status=400]]"}`, status: 400, upstreamType: "invalid_request_error"},
		{name: "anthropic 400 translated", path: "/v1/chat/completions", body: pxChat("claude-sonnet-4-6", "[[fake:status=400]]", false, ""), status: 400, upstreamType: "invalid_request_error"},
		{name: "anthropic 429 translated", path: "/v1/chat/completions", body: pxChat("claude-sonnet-4-6", "[[fake:429]]", false, ""), status: 429, upstreamType: "rate_limit_error", retryAfter: true},
		{name: "anthropic 529 translated on a stream", path: "/v1/chat/completions", body: pxChat("claude-sonnet-4-6", "[[fake:status=529]]", true, ""), status: 529},
		{name: "anthropic 404 kept for messages", path: "/v1/messages", body: `{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"[[fake:status=404]]"}]}`, status: 404, anthropicShape: true, upstreamType: "not_found_error"},
		{name: "anthropic 529 kept for messages stream", path: "/v1/messages", body: `{"model":"claude-sonnet-4-6","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"[[fake:status=529]]"}]}`, status: 529, anthropicShape: true, upstreamType: "overloaded_error"},
		{name: "malformed body", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:malformed]]", false, ""), status: 502, code: "upstream_bad_body", charged: true},
		{name: "malformed anthropic body", path: "/v1/chat/completions", body: pxChat("claude-sonnet-4-6", "[[fake:malformed]]", false, ""), status: 502, charged: true},
		{name: "truncated body", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:truncate]] cut me", false, ""), status: 502, charged: true},
		{name: "hang with policy timeout", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:hang]]", false, ""), status: 504, code: "upstream_timeout", maxTime: 4 * time.Second, charged: true},
		{name: "hang on a stream with policy timeout", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:hang]]", true, ""), status: 504, code: "upstream_timeout", maxTime: 4 * time.Second, charged: true},
		{name: "hang on anthropic with policy timeout", path: "/v1/messages", body: `{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"[[fake:hang]]"}]}`, status: 504, code: "upstream_timeout", maxTime: 4 * time.Second, charged: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, _ := px.token(t, `{"max_tokens":50000,"timeout":1}`)
			start := time.Now()
			r := pxPost(t, px.url+tc.path, tok, tc.body)
			took := time.Since(start)
			require.Equal(t, tc.status, r.status, string(r.body))
			assert.Contains(t, r.header.Get("Content-Type"), "application/json")
			if tc.maxTime > 0 {
				assert.Less(t, took, tc.maxTime, "the policy timeout (1s) bounds the wait")
				assert.Greater(t, took, 900*time.Millisecond, "the proxy waits out the policy timeout")
			}
			if tc.retryAfter {
				assert.NotEmpty(t, r.header.Get("Retry-After"), "Retry-After is passed on")
			}
			switch {
			case tc.anthropicShape:
				var out struct {
					Type  string `json:"type"`
					Error struct {
						Type    string `json:"type"`
						Message string `json:"message"`
					} `json:"error"`
				}
				require.NoError(t, json.Unmarshal(r.body, &out), string(r.body))
				assert.Equal(t, "error", out.Type)
				assert.Equal(t, tc.upstreamType, out.Error.Type)
				assert.NotEmpty(t, out.Error.Message)
			case tc.code != "":
				code, _, _ := pxOpenAIError(t, r.body)
				assert.Equal(t, tc.code, code)
			default:
				typ, _ := pxErrorShape(t, r.body)
				if tc.upstreamType != "" {
					assert.Equal(t, tc.upstreamType, typ)
				}
			}
			b := pxSettled(t, px.url, tok)
			if tc.charged {
				assert.Positive(t, b.Used, "a call the provider received is charged")
			} else {
				assert.Zero(t, b.Used, "a call the provider refused is not charged")
			}
			assert.Zero(t, b.Reserved)
		})
	}
}

// TestProxyBrokenStreams: when a 200 stream breaks, the status is gone, so
// the client must learn it from an error event; the partial usage is still
// charged and nothing stays reserved.
func TestProxyBrokenStreams(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	cases := []struct {
		name      string
		path      string
		body      string
		anthropic bool // error event in Anthropic's shape
		charged   bool // some deltas arrived before the break
		// complete: only the first frame is broken, the upstream finishes;
		// the proxy relays what it cannot read and still settles exactly.
		complete bool
	}{
		{name: "openai truncated", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:truncate,long=40]]", true, ""), charged: true},
		{name: "translated truncated", path: "/v1/chat/completions", body: pxChat("claude-sonnet-4-6", "[[fake:truncate,long=40]]", true, ""), charged: true},
		{name: "anthropic truncated", path: "/v1/messages", body: `{"model":"claude-sonnet-4-6","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"[[fake:truncate,long=40]]"}]}`, anthropic: true, charged: true},
		{name: "openai malformed first frame", path: "/v1/chat/completions", body: pxChat("gpt-4o", "[[fake:malformed]]", true, ""), complete: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, _ := px.token(t, `{"max_tokens":50000}`)
			r := pxPost(t, px.url+tc.path, tok, tc.body)
			require.Equal(t, 200, r.status, string(r.body))
			data, names := pxSSE(r.body)
			require.NotEmpty(t, data)
			if tc.complete {
				assert.Equal(t, "[DONE]", data[len(data)-1])
				b := pxSettled(t, px.url, tok)
				assert.Zero(t, b.Reserved)
				up := px.fake.Requests()
				var want int64 = -1
				for _, u := range up {
					if strings.Contains(string(u.Body), "malformed") {
						want = pxPredictTotal(t, u)
					}
				}
				assert.Equal(t, want, b.Used, "the usage chunk still settles the stream")
				return
			}
			assert.NotEqual(t, "[DONE]", data[len(data)-1], "a broken stream must not look complete")
			if tc.anthropic {
				last := pxJSON(t, data[len(data)-1])
				assert.Equal(t, "error", names[len(names)-1])
				assert.Equal(t, "error", pxStr(last, "type"))
				assert.NotEmpty(t, pxStr(last, "error", "message"))
			} else {
				errAt := -1
				for i, d := range data {
					if strings.Contains(d, `"upstream_stream_broken"`) {
						errAt = i
						m := pxJSON(t, d)
						assert.NotEmpty(t, pxStr(m, "error", "message"))
					}
				}
				require.NotEqual(t, -1, errAt, "an error event tells the client the stream broke: %s", r.body)
				assert.Equal(t, len(data)-1, errAt, "nothing follows the error event (no finish_reason, no [DONE]): %s", r.body)
			}
			b := pxSettled(t, px.url, tok)
			assert.Zero(t, b.Reserved)
			if tc.charged {
				assert.Positive(t, b.Used, "what was generated before the break is charged")
			}
		})
	}
}
