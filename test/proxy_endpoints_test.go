package test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// pxAny is a decoded JSON value, for reading answers loosely.
type pxAny = map[string]any

func pxJSON(t *testing.T, s string) pxAny {
	t.Helper()
	var m pxAny
	require.NoError(t, json.Unmarshal([]byte(s), &m), s)
	return m
}

// pxGet walks a decoded JSON value by object keys and array indexes.
func pxGet(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func pxStr(v any, path ...any) string {
	s, _ := pxGet(v, path...).(string)
	return s
}

func pxNum(v any, path ...any) int64 {
	f, _ := pxGet(v, path...).(float64)
	return int64(f)
}

// pxAnswer is what a client saw: the generated text, the finish reason and
// the usage the answer reported (-1 when it reported none).
type pxAnswer struct {
	text   string
	finish string
	usage  int64
}

// Readers of each wire format, non-streamed and streamed.
func pxReadChat(t *testing.T, body []byte) pxAnswer {
	m := pxJSON(t, string(body))
	assert.Equal(t, "chat.completion", pxStr(m, "object"))
	return pxAnswer{text: pxStr(m, "choices", 0, "message", "content"), finish: pxStr(m, "choices", 0, "finish_reason"),
		usage: pxNum(m, "usage", "prompt_tokens") + pxNum(m, "usage", "completion_tokens")}
}

func pxReadCompletion(t *testing.T, body []byte) pxAnswer {
	m := pxJSON(t, string(body))
	return pxAnswer{text: pxStr(m, "choices", 0, "text"), finish: pxStr(m, "choices", 0, "finish_reason"),
		usage: pxNum(m, "usage", "prompt_tokens") + pxNum(m, "usage", "completion_tokens")}
}

func pxReadEmbedding(t *testing.T, body []byte) pxAnswer {
	m := pxJSON(t, string(body))
	emb, _ := pxGet(m, "data", 0, "embedding").([]any)
	assert.NotEmpty(t, emb, "embedding vector")
	return pxAnswer{usage: pxNum(m, "usage", "total_tokens")}
}

func pxReadResponses(t *testing.T, body []byte) pxAnswer {
	m := pxJSON(t, string(body))
	return pxAnswer{text: pxStr(m, "output", 0, "content", 0, "text"), finish: pxStr(m, "status"),
		usage: pxNum(m, "usage", "input_tokens") + pxNum(m, "usage", "output_tokens")}
}

func pxReadMessages(t *testing.T, body []byte) pxAnswer {
	m := pxJSON(t, string(body))
	assert.Equal(t, "message", pxStr(m, "type"))
	return pxAnswer{text: pxStr(m, "content", 0, "text"), finish: pxStr(m, "stop_reason"),
		usage: pxNum(m, "usage", "input_tokens") + pxNum(m, "usage", "output_tokens")}
}

// pxReadChatStream reads chat or completion chunks; it checks the stream ends
// with [DONE] and that at most the last chunk before it carries usage.
func pxReadChatStream(t *testing.T, body []byte) pxAnswer {
	data, _ := pxSSE(body)
	require.NotEmpty(t, data, "no events in %s", body)
	require.Equal(t, "[DONE]", data[len(data)-1], "stream must end with [DONE]")
	a := pxAnswer{usage: -1}
	var sb strings.Builder
	for i, d := range data[:len(data)-1] {
		m := pxJSON(t, d)
		if o := pxStr(m, "object"); o != "" {
			assert.Contains(t, []string{"chat.completion.chunk", "text_completion"}, o)
		}
		sb.WriteString(pxStr(m, "choices", 0, "delta", "content"))
		sb.WriteString(pxStr(m, "choices", 0, "text"))
		if f := pxStr(m, "choices", 0, "finish_reason"); f != "" {
			a.finish = f
		}
		if u, ok := pxGet(m, "usage").(map[string]any); ok {
			assert.Equal(t, len(data)-2, i, "only the last chunk carries usage: %s", d)
			a.usage = pxNum(u, "prompt_tokens") + pxNum(u, "completion_tokens")
		}
	}
	a.text = sb.String()
	return a
}

func pxReadResponsesStream(t *testing.T, body []byte) pxAnswer {
	data, _ := pxSSE(body)
	a := pxAnswer{usage: -1}
	var sb strings.Builder
	for _, d := range data {
		m := pxJSON(t, d)
		switch pxStr(m, "type") {
		case "response.output_text.delta":
			sb.WriteString(pxStr(m, "delta"))
		case "response.completed":
			a.finish = pxStr(m, "response", "status")
			a.usage = pxNum(m, "response", "usage", "input_tokens") + pxNum(m, "response", "usage", "output_tokens")
		}
	}
	a.text = sb.String()
	return a
}

func pxReadMessagesStream(t *testing.T, body []byte) pxAnswer {
	data, names := pxSSE(body)
	require.NotEmpty(t, names)
	assert.Equal(t, "message_stop", names[len(names)-1])
	a := pxAnswer{usage: -1}
	var sb strings.Builder
	var in, out int64
	for _, d := range data {
		m := pxJSON(t, d)
		switch pxStr(m, "type") {
		case "message_start":
			in = pxNum(m, "message", "usage", "input_tokens")
		case "content_block_delta":
			sb.WriteString(pxStr(m, "delta", "text"))
		case "message_delta":
			a.finish = pxStr(m, "delta", "stop_reason")
			out = pxNum(m, "usage", "output_tokens")
		}
	}
	a.text, a.usage = sb.String(), in+out
	return a
}

// TestProxyEndpoints sends every endpoint, streamed and not, through the
// real binary and checks the answer text, the finish reason, the usage the
// client sees (present only when asked for) and that /v1/usage charges
// exactly what the fake reported, with nothing left reserved.
func TestProxyEndpoints(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	const policy = `{"max_tokens":1000000}`
	cases := []struct {
		name   string
		path   string
		body   func(marker string) string
		read   func(*testing.T, []byte) pxAnswer
		finish string
		// clientUsage: the answer must report usage (false: must not).
		clientUsage bool
		// upstreamUsage: the proxy asks an OpenAI upstream for the usage chunk.
		upstreamUsage bool
		sse           bool
	}{
		{name: "chat", path: "/v1/chat/completions", read: pxReadChat, finish: "stop", clientUsage: true,
			body: func(m string) string { return pxChat("gpt-4o", "Hello "+m, false, "") }},
		{name: "chat stream with usage", path: "/v1/chat/completions", read: pxReadChatStream, finish: "stop", clientUsage: true, upstreamUsage: true, sse: true,
			body: func(m string) string {
				return pxChat("gpt-4o", "Stream please "+m, true, `"stream_options":{"include_usage":true}`)
			}},
		{name: "chat stream without usage", path: "/v1/chat/completions", read: pxReadChatStream, finish: "stop", upstreamUsage: true, sse: true,
			body: func(m string) string { return pxChat("gpt-4o-mini", "Stream quietly "+m, true, "") }},
		{name: "chat stream with usage turned off", path: "/v1/chat/completions", read: pxReadChatStream, finish: "stop", upstreamUsage: true, sse: true,
			body: func(m string) string {
				return pxChat("gpt-4o", "Stream no usage "+m, true, `"stream_options":{"include_usage":false}`)
			}},
		{name: "completions stream with usage", path: "/v1/completions", read: pxReadChatStream, finish: "stop", clientUsage: true, upstreamUsage: true, sse: true,
			body: func(m string) string {
				return `{"model":"gpt-3.5-turbo-instruct","prompt":"Stream ` + m + `","stream":true,"stream_options":{"include_usage":true}}`
			}},
		{name: "completions", path: "/v1/completions", read: pxReadCompletion, finish: "stop", clientUsage: true,
			body: func(m string) string { return `{"model":"gpt-3.5-turbo-instruct","prompt":"Say ` + m + `"}` }},
		{name: "completions stream", path: "/v1/completions", read: pxReadChatStream, finish: "stop", upstreamUsage: true, sse: true,
			body: func(m string) string {
				return `{"model":"gpt-3.5-turbo-instruct","prompt":"Stream ` + m + `","stream":true}`
			}},
		{name: "embeddings", path: "/v1/embeddings", read: pxReadEmbedding, clientUsage: true,
			body: func(m string) string { return `{"model":"text-embedding-3-small","input":"embed ` + m + ` now"}` }},
		{name: "responses", path: "/v1/responses", read: pxReadResponses, finish: "completed", clientUsage: true,
			body: func(m string) string { return `{"model":"gpt-4o","input":"Respond ` + m + `"}` }},
		{name: "responses stream", path: "/v1/responses", read: pxReadResponsesStream, finish: "completed", clientUsage: true, sse: true,
			body: func(m string) string { return `{"model":"gpt-4o","input":"Respond streaming ` + m + `","stream":true}` }},
		{name: "messages", path: "/v1/messages", read: pxReadMessages, finish: "end_turn", clientUsage: true,
			body: func(m string) string {
				return `{"model":"claude-sonnet-4-6","max_tokens":200,"messages":[{"role":"user","content":"Hi claude ` + m + `"}]}`
			}},
		{name: "messages stream", path: "/v1/messages", read: pxReadMessagesStream, finish: "end_turn", clientUsage: true, sse: true,
			body: func(m string) string {
				return `{"model":"claude-haiku-4-5","max_tokens":200,"stream":true,"messages":[{"role":"user","content":"Stream claude ` + m + `"}]}`
			}},
		{name: "chat translated to anthropic", path: "/v1/chat/completions", read: pxReadChat, finish: "stop", clientUsage: true,
			body: func(m string) string { return pxChat("claude-sonnet-4-6", "Translate "+m, false, "") }},
		{name: "chat translated capped", path: "/v1/chat/completions", read: pxReadChat, finish: "length", clientUsage: true,
			body: func(m string) string {
				return pxChat("claude-sonnet-4-6", "Cap "+m+" [[fake:long=50]]", false, `"max_tokens":5`)
			}},
		{name: "chat translated stream with usage", path: "/v1/chat/completions", read: pxReadChatStream, finish: "stop", clientUsage: true, sse: true,
			body: func(m string) string {
				return pxChat("claude-opus-4-6", "Translate stream "+m, true, `"stream_options":{"include_usage":true}`)
			}},
		{name: "chat translated stream without usage", path: "/v1/chat/completions", read: pxReadChatStream, finish: "stop", sse: true,
			body: func(m string) string { return pxChat("claude-haiku-4-5", "Translate quietly "+m, true, "") }},
		{name: "chat translated stream capped", path: "/v1/chat/completions", read: pxReadChatStream, finish: "length", clientUsage: true, sse: true,
			body: func(m string) string {
				return pxChat("claude-haiku-4-5", "Cap stream "+m+" [[fake:long=50]]", true, `"max_tokens":4,"stream_options":{"include_usage":true}`)
			}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, _ := px.token(t, policy)
			marker := "mk" + strings.Repeat("x", i+1) + "q"
			r := pxPost(t, px.url+tc.path, tok, tc.body(marker))
			require.Equal(t, 200, r.status, string(r.body))
			if tc.sse {
				assert.Contains(t, r.header.Get("Content-Type"), "text/event-stream")
			} else {
				assert.Contains(t, r.header.Get("Content-Type"), "application/json")
			}
			assert.NotEmpty(t, r.header.Get("X-Request-Id"))
			got := tc.read(t, r.body)

			up := pxFindRequest(t, px.fake, marker)
			pred, err := fakeupstream.Predict(up.Path, up.Body)
			require.NoError(t, err)
			want := int64(pred.PromptTokens + pred.CompletionTokens)
			if tc.path != "/v1/embeddings" {
				assert.Equal(t, pred.Text, got.text, "answer text")
			}
			assert.Equal(t, tc.finish, got.finish, "finish reason")
			if tc.clientUsage {
				assert.Equal(t, want, got.usage, "usage the client sees")
			} else {
				assert.Equal(t, int64(-1), got.usage, "the client did not ask for usage and must not get it")
			}
			if tc.upstreamUsage {
				var ub struct {
					StreamOptions struct {
						IncludeUsage bool `json:"include_usage"`
					} `json:"stream_options"`
				}
				require.NoError(t, json.Unmarshal(up.Body, &ub))
				assert.True(t, ub.StreamOptions.IncludeUsage, "the proxy asks the upstream for stream usage: %s", up.Body)
			}
			assert.NotContains(t, string(up.Body), tok)

			b := pxSettled(t, px.url, tok)
			assert.Equal(t, want, b.Used, "settled usage equals the provider's report")
			assert.Zero(t, b.Reserved, "no reservation left")
			assert.Equal(t, int64(1000000), b.Limit)
		})
	}
}

// TestProxyStreamRelayedAsItArrives: with a slow upstream, the first chunk
// reaches the client long before the last one, so nothing buffers the
// stream (in the proxy or in a compressor).
func TestProxyStreamRelayedAsItArrives(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"max_tokens":100000}`)
	cases := []struct{ name, path, body string }{
		{"openai chat", "/v1/chat/completions", pxChat("gpt-4o", "one two three four five six [[fake:slow=100ms]]", true, "")},
		{"translated chat", "/v1/chat/completions", pxChat("claude-sonnet-4-6", "one two three four five six [[fake:slow=100ms]]", true, "")},
		{"anthropic messages", "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"one two three four five six [[fake:slow=100ms]]"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			status, lines := pxStream(t, px.url+tc.path, tok, tc.body)
			require.Equal(t, 200, status)
			require.Greater(t, len(lines), 8)
			first, last := lines[0].at.Sub(start), lines[len(lines)-1].at.Sub(start)
			t.Logf("%d events: first after %v, last after %v", len(lines), first, last)
			// The fake waits 100ms before each of 10+ frames: the stream lasts
			// over a second; a relay that buffers delivers everything at once.
			assert.Greater(t, last-first, 500*time.Millisecond, "chunks must be relayed as they arrive")
			assert.Less(t, first, last/2)
		})
	}
}
