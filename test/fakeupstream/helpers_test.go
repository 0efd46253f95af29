package fakeupstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testOpenAIKey    = "sk-test-openai"
	testAnthropicKey = "ak-test-anthropic"
)

// startServer starts a server with the test keys (unless opts sets others)
// and closes it when the test ends.
func startServer(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	if opts.OpenAIKey == "" {
		opts.OpenAIKey = testOpenAIKey
	}
	if opts.AnthropicKey == "" {
		opts.AnthropicKey = testAnthropicKey
	}
	s := New(opts)
	url, err := s.Start("")
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, url
}

// rawClient leaves Content-Encoding alone so gzip tests see the wire bytes.
var rawClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64},
}

type result struct {
	status int
	header http.Header
	body   []byte
	err    error // reading the body
}

func openAIHeaders() map[string]string {
	return map[string]string{"Authorization": "Bearer " + testOpenAIKey}
}

func anthropicHeaders() map[string]string {
	return map[string]string{"x-api-key": testAnthropicKey, "anthropic-version": "2023-06-01"}
}

func do(t testing.TB, method, url string, hdr map[string]string, body string) result {
	t.Helper()
	return doCtx(t, context.Background(), method, url, hdr, body)
}

func doCtx(t testing.TB, ctx context.Context, method, url string, hdr map[string]string, body string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := rawClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func postOpenAI(t testing.TB, url, path, body string) result {
	t.Helper()
	return do(t, http.MethodPost, url+path, openAIHeaders(), body)
}

func postAnthropic(t testing.TB, url, body string) result {
	t.Helper()
	return do(t, http.MethodPost, url+"/v1/messages", anthropicHeaders(), body)
}

// decodeStrict decodes JSON refusing fields the mirror struct lacks, so a
// misspelled field in the fake's output fails the test.
func decodeStrict(t testing.TB, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "decoding %s", data)
}

type sseEvent struct {
	event string
	data  string
}

// parseSSE splits a complete event stream into events.
func parseSSE(t testing.TB, body []byte) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			out = append(out, cur)
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			require.Empty(t, cur.data, "one data line per event")
			cur.data = strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	require.NoError(t, sc.Err())
	require.Equal(t, sseEvent{}, cur, "stream must end with a blank line")
	return out
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// chatBody builds a chat request with one user message plus extra fields.
func chatBody(t testing.TB, user string, extra map[string]any) string {
	t.Helper()
	m := map[string]any{
		"model":    "gpt-4o",
		"messages": []map[string]any{{"role": "system", "content": "Be brief."}, {"role": "user", "content": user}},
	}
	for k, v := range extra {
		m[k] = v
	}
	return mustJSON(t, m)
}

func anthropicBody(t testing.TB, user string, extra map[string]any) string {
	t.Helper()
	m := map[string]any{
		"model":      "claude-sonnet-4-5",
		"max_tokens": 1024,
		"system":     "Be brief.",
		"messages":   []map[string]any{{"role": "user", "content": user}},
	}
	for k, v := range extra {
		m[k] = v
	}
	return mustJSON(t, m)
}

func responsesBody(t testing.TB, user string, extra map[string]any) string {
	t.Helper()
	m := map[string]any{"model": "gpt-4o", "instructions": "Be brief.", "input": user}
	for k, v := range extra {
		m[k] = v
	}
	return mustJSON(t, m)
}

func (r result) JSON(v any) error { return json.Unmarshal(r.body, v) }
