package fakeupstream

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endpoint builds a request for one API with the given last user message.
type endpoint struct {
	name      string
	path      string
	anthropic bool
	body      func(t testing.TB, user string, stream bool) string
}

var endpoints = []endpoint{
	{name: "chat", path: "/v1/chat/completions", body: func(t testing.TB, user string, stream bool) string {
		extra := map[string]any{}
		if stream {
			extra["stream"], extra["stream_options"] = true, map[string]any{"include_usage": true}
		}
		return chatBody(t, user, extra)
	}},
	{name: "completions", path: "/v1/completions", body: func(t testing.TB, user string, stream bool) string {
		m := map[string]any{"model": "gpt-3.5-turbo-instruct", "prompt": user, "max_tokens": 100}
		if stream {
			m["stream"], m["stream_options"] = true, map[string]any{"include_usage": true}
		}
		return mustJSON(t, m)
	}},
	{name: "responses", path: "/v1/responses", body: func(t testing.TB, user string, stream bool) string {
		return responsesBody(t, user, map[string]any{"stream": stream})
	}},
	{name: "messages", path: "/v1/messages", anthropic: true, body: func(t testing.TB, user string, stream bool) string {
		return anthropicBody(t, user, map[string]any{"stream": stream})
	}},
}

func (e endpoint) post(t testing.TB, url, user string, stream bool) result {
	t.Helper()
	hdr := openAIHeaders()
	if e.anthropic {
		hdr = anthropicHeaders()
	}
	return do(t, http.MethodPost, url+e.path, hdr, e.body(t, user, stream))
}

func TestFaultStatus(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{FailModels: []string{"gpt-4o", "claude-sonnet-4-5"}})
	_, okURL := startServer(t, Options{})
	tests := []struct {
		name       string
		url        string
		user       string
		status     int
		openAIType string
		anthType   string
	}{
		{name: "status=503", url: okURL, user: "hi [[fake:status=503]]", status: 503, openAIType: "server_error", anthType: "api_error"},
		{name: "529", url: okURL, user: "hi [[fake:529]]", status: 529, openAIType: "server_error", anthType: "overloaded_error"},
		{name: "500", url: okURL, user: "[[fake:500]] hi", status: 500, openAIType: "server_error", anthType: "api_error"},
		{name: "429", url: okURL, user: "[[fake:429]]", status: 429, openAIType: "requests", anthType: "rate_limit_error"},
		{name: "fail model", url: url, user: "hi", status: 503, openAIType: "server_error", anthType: "api_error"},
	}
	for _, tc := range tests {
		for _, ep := range []endpoint{endpoints[0], endpoints[2], endpoints[3]} {
			t.Run(tc.name+"/"+ep.name, func(t *testing.T) {
				t.Parallel()
				res := ep.post(t, tc.url, tc.user, true)
				require.Equal(t, tc.status, res.status, "%s", res.body)
				assert.Equal(t, "application/json", res.header.Get("Content-Type"))
				if ep.anthropic {
					var e anError
					decodeStrict(t, res.body, &e)
					assert.Equal(t, "error", e.Type)
					assert.Equal(t, tc.anthType, e.Error.Type)
				} else {
					var e oaError
					decodeStrict(t, res.body, &e)
					assert.Equal(t, tc.openAIType, e.Error.Type)
				}
			})
		}
	}
}

func TestFault429Headers(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name       string
		ep         endpoint
		user       string
		retryAfter string
		headers    []string
	}{
		{name: "openai default", ep: endpoints[0], user: "[[fake:429]]", retryAfter: "1",
			headers: []string{"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
				"x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"}},
		{name: "openai retry_after", ep: endpoints[0], user: "[[fake:429,retry_after=7]]", retryAfter: "7",
			headers: []string{"x-ratelimit-reset-requests"}},
		{name: "anthropic", ep: endpoints[3], user: "[[fake:status=429]]", retryAfter: "1",
			headers: []string{"anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := tc.ep.post(t, url, tc.user, false)
			require.Equal(t, http.StatusTooManyRequests, res.status)
			assert.Equal(t, tc.retryAfter, res.header.Get("Retry-After"))
			for _, h := range tc.headers {
				assert.NotEmpty(t, res.header.Get(h), h)
			}
		})
	}
	res := endpoints[0].post(t, url, "[[fake:429,retry_after=7]]", false)
	assert.Equal(t, "7s", res.header.Get("x-ratelimit-reset-requests"))
	assert.Equal(t, "0", res.header.Get("x-ratelimit-remaining-requests"))
}

func TestFaultTruncate(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	for _, ep := range endpoints {
		for _, stream := range []bool{false, true} {
			name := ep.name + "/nonstream"
			if stream {
				name = ep.name + "/stream"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				full := ep.post(t, url, "one two three four five six seven eight", stream)
				require.NoError(t, full.err)
				cut := ep.post(t, url, "one two three four five six seven eight [[fake:truncate]]", stream)
				require.Equal(t, http.StatusOK, cut.status)
				require.ErrorIs(t, cut.err, io.ErrUnexpectedEOF, "the connection is cut mid-body")
				assert.Less(t, len(cut.body), len(full.body))
				body := string(cut.body)
				if stream {
					assert.Contains(t, body, "data: ", "some frames arrived")
					ends := []string{"[DONE]", "message_delta", "message_stop", "response.completed", `"finish_reason":"`}
					if !ep.anthropic { // Anthropic's message_start carries the input usage
						ends = append(ends, `"usage":{`)
					}
					for _, end := range ends {
						assert.NotContains(t, body, end)
					}
				} else {
					assert.False(t, json.Valid(cut.body))
				}
			})
		}
	}
}

func TestFaultNoUsage(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	for _, ep := range endpoints {
		for _, stream := range []bool{false, true} {
			t.Run(ep.name, func(t *testing.T) {
				t.Parallel()
				with := ep.post(t, url, "hi", stream)
				require.Contains(t, string(with.body), `"usage":{`, "streams here ask for usage")
				without := ep.post(t, url, "hi [[fake:nousage]]", stream)
				require.Equal(t, http.StatusOK, without.status)
				require.NoError(t, without.err)
				for _, key := range []string{`"usage":{`, `"input_tokens"`, `"prompt_tokens"`, `"output_tokens"`} {
					assert.NotContains(t, string(without.body), key)
				}
				if stream && ep.path != "/v1/responses" && !ep.anthropic {
					assert.Contains(t, string(without.body), "data: [DONE]")
				}
			})
		}
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

func TestFaultGzip(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	for _, ep := range endpoints {
		for _, stream := range []bool{false, true} {
			t.Run(ep.name, func(t *testing.T) {
				t.Parallel()
				plain := ep.post(t, url, "hello there", stream)
				res := ep.post(t, url, "hello there [[fake:gzip]]", stream)
				require.Equal(t, http.StatusOK, res.status)
				assert.Equal(t, "gzip", res.header.Get("Content-Encoding"))
				body := gunzip(t, res.body)
				if stream {
					events := parseSSE(t, body)
					assert.Len(t, events, len(parseSSE(t, plain.body)))
				} else {
					assert.True(t, json.Valid(body), "%s", body)
					assert.Contains(t, string(plain.body), "Echo: hello there")
					assert.Contains(t, string(body), "Echo: hello there")
				}
			})
		}
	}
}

func TestFaultGzipTransparentClient(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	// A default Go client asks for gzip and decodes it transparently.
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(chatBody(t, "hey [[fake:gzip]]", nil)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testOpenAIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var got chatCompletion
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, "Echo: hey", *got.Choices[0].Message.Content)
	assert.True(t, resp.Uncompressed)
}

func TestFaultMalformed(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	for _, ep := range endpoints {
		t.Run(ep.name+"/nonstream", func(t *testing.T) {
			t.Parallel()
			res := ep.post(t, url, "hi [[fake:malformed]]", false)
			require.Equal(t, http.StatusOK, res.status)
			require.NoError(t, res.err)
			assert.Equal(t, "application/json", res.header.Get("Content-Type"))
			assert.False(t, json.Valid(res.body), "%s", res.body)
		})
		t.Run(ep.name+"/stream", func(t *testing.T) {
			t.Parallel()
			res := ep.post(t, url, "hi [[fake:malformed]]", true)
			require.Equal(t, http.StatusOK, res.status)
			events := parseSSE(t, res.body)
			require.Greater(t, len(events), 2)
			assert.False(t, json.Valid([]byte(events[0].data)), "first frame is cut")
			assert.True(t, json.Valid([]byte(events[1].data)), "the rest is intact")
		})
	}
}

func TestFaultSlow(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	const delay = 15 * time.Millisecond
	tests := []struct {
		name   string
		ep     endpoint
		stream bool
		frames int
	}{
		{name: "chat nonstream", ep: endpoints[0], frames: 1},
		// role, 3 deltas ("Echo", ":", " hi"), finish, usage, [DONE]
		{name: "chat stream", ep: endpoints[0], stream: true, frames: 7},
		// start, block start, ping, 3 deltas, block stop, message_delta, message_stop
		{name: "messages stream", ep: endpoints[3], stream: true, frames: 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res := tc.ep.post(t, url, "hi [[fake:slow=15ms]]", tc.stream)
			require.Equal(t, http.StatusOK, res.status)
			require.NoError(t, res.err)
			// A lower bound only: the delay is a minimum wait per frame.
			assert.GreaterOrEqual(t, time.Since(start), time.Duration(tc.frames)*delay)
		})
	}
}

func TestFaultHang(t *testing.T) {
	t.Parallel()
	s, url := startServer(t, Options{})
	for _, stream := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions",
			strings.NewReader(chatBody(t, "hi [[fake:hang]]", map[string]any{"stream": stream})))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testOpenAIKey)
		_, err = rawClient.Do(req)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	require.Eventually(t, func() bool { return s.Active() == 0 }, 5*time.Second, 5*time.Millisecond,
		"the hung handlers end when their clients give up")
}

func TestFaultHangReleasedByClose(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	url, err := s.Start("")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(chatBody(t, "[[fake:hang]]", nil)))
		_, err := rawClient.Do(req)
		done <- err
	}()
	require.Eventually(t, func() bool { return s.Active() == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, s.Close())
	require.Error(t, <-done)
	require.Eventually(t, func() bool { return s.Active() == 0 }, 5*time.Second, time.Millisecond)
}
