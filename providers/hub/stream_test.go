package hub_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

// seen is what a client reads from a translated stream.
type seen struct {
	text   string
	args   map[string]string // tool name → arguments
	finish string
	usage  providers.Usage
	done   bool
}

// readStream reads a stream in client format w as that client would,
// failing on a frame the format does not allow.
func readStream(t *testing.T, w hub.Wire, out []byte) seen {
	t.Helper()
	s := seen{args: map[string]string{}}
	var p sse.Parser
	p.Feed(out)
	names := map[int]string{} // tool index or block → name
	for {
		ev, ok, err := p.Next()
		require.NoError(t, err)
		if !ok {
			break
		}
		if ev.IsDone() {
			require.Equal(t, hub.Chat, w, "[DONE] ends only chat streams")
			s.done = true
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(ev.Data, &m), "invalid frame %s", ev.Data)
		typ, _ := m["type"].(string)
		if w != hub.Chat {
			require.Equal(t, typ, string(ev.Name), "event name and type agree")
		}
		switch w {
		case hub.Chat:
			if m["error"] != nil {
				s.finish = "error"
				continue
			}
			choices, _ := m["choices"].([]any)
			if u, ok := m["usage"].(map[string]any); ok {
				s.usage.PromptTokens, s.usage.CompletionTokens = num(u["prompt_tokens"]), num(u["completion_tokens"])
			}
			for _, c := range choices {
				c := c.(map[string]any)
				d, _ := c["delta"].(map[string]any)
				if txt, ok := d["content"].(string); ok {
					s.text += txt
				}
				calls, _ := d["tool_calls"].([]any)
				for _, call := range calls {
					call := call.(map[string]any)
					i := int(num(call["index"]))
					fn := call["function"].(map[string]any)
					if n, ok := fn["name"].(string); ok {
						names[i] = n
					}
					a, _ := fn["arguments"].(string)
					s.args[names[i]] += a
				}
				if f, ok := c["finish_reason"].(string); ok {
					s.finish = f
				}
			}
		case hub.Messages:
			switch typ {
			case "content_block_start":
				cb := m["content_block"].(map[string]any)
				if cb["type"] == "tool_use" {
					names[int(num(m["index"]))] = cb["name"].(string)
				}
			case "content_block_delta":
				d := m["delta"].(map[string]any)
				if txt, ok := d["text"].(string); ok {
					s.text += txt
				}
				if pj, ok := d["partial_json"].(string); ok {
					s.args[names[int(num(m["index"]))]] += pj
				}
			case "message_delta":
				s.finish = m["delta"].(map[string]any)["stop_reason"].(string)
				u := m["usage"].(map[string]any)
				s.usage.PromptTokens = num(u["input_tokens"]) + num(u["cache_read_input_tokens"])
				s.usage.CompletionTokens = num(u["output_tokens"])
			case "message_stop":
				s.done = true
			case "error":
				s.finish = "error"
			}
		case hub.Responses:
			switch typ {
			case "response.output_text.delta":
				s.text += m["delta"].(string)
			case "response.output_item.added":
				it := m["item"].(map[string]any)
				if it["type"] == "function_call" {
					names[int(num(m["output_index"]))] = it["name"].(string)
				}
			case "response.function_call_arguments.delta":
				s.args[names[int(num(m["output_index"]))]] += m["delta"].(string)
			case "response.completed", "response.incomplete":
				r := m["response"].(map[string]any)
				s.finish = r["status"].(string)
				u := r["usage"].(map[string]any)
				s.usage.PromptTokens, s.usage.CompletionTokens = num(u["input_tokens"]), num(u["output_tokens"])
				s.done = true
			case "error":
				s.finish = "error"
			}
		}
	}
	return s
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

// TestStreamMatrix translates recorded provider streams into every client
// format and reads them back: the text, the tool calls with their whole
// arguments, the finish in the client's terms and the provider's usage
// survive; every output is kept as a golden file.
func TestStreamMatrix(t *testing.T) {
	t.Parallel()
	finish := map[hub.Wire]map[string]string{
		hub.Chat:      {"end": "stop", "tool": "tool_calls", "length": "length", "error": "error"},
		hub.Messages:  {"end": "end_turn", "tool": "tool_use", "length": "max_tokens", "error": "error"},
		hub.Responses: {"end": "completed", "tool": "completed", "length": "incomplete", "error": "error"},
	}
	cases := []struct {
		file   string
		from   hub.Wire
		text   string
		args   map[string]string
		finish string
		usage  providers.Usage
	}{
		{"text.sse", hub.Messages, "Hello! Here is a \"quoted\" word,\na new line and café 😀.", nil, "end", providers.Usage{PromptTokens: 25, CompletionTokens: 15}},
		{"tool_use.sse", hub.Messages, "I'll check the weather.", map[string]string{"get_weather": `{"location": "San Francisco, CA", "unit": "fahrenheit"}`}, "tool", providers.Usage{PromptTokens: 2012, CompletionTokens: 89}},
		{"thinking.sse", hub.Messages, "2 + 2 = 4", nil, "end", providers.Usage{PromptTokens: 40, CompletionTokens: 61}},
		{"chat_usage.sse", hub.Chat, "", nil, "end", providers.Usage{}},
		{"chat_tools.sse", hub.Chat, "", map[string]string{"get_weather": `{"location":"Paris, FR","unit":"c"}`, "get_time": `{"tz":"Europe/Paris"}`}, "tool", providers.Usage{PromptTokens: 85, CompletionTokens: 41}},
	}
	for _, tc := range cases {
		for _, to := range []hub.Wire{hub.Chat, hub.Messages, hub.Responses} {
			t.Run(tc.file+"/"+to.String(), func(t *testing.T) {
				t.Parallel()
				tr := hub.NewStream(tc.from, to, "", 1750000000, true, 10)
				var out []byte
				for _, ev := range events(t, tc.file) {
					var err error
					out, err = tr.Translate(out, ev.Data)
					require.NoError(t, err)
				}
				out = tr.Close(out)
				require.True(t, tr.Done())
				golden(t, filepath.Join("streams", "matrix", strings.TrimSuffix(tc.file, ".sse")+"."+to.String()+".sse"), out)
				got := readStream(t, to, out)
				assert.True(t, got.done, "the stream ends as the format ends it")
				if tc.text != "" {
					assert.Equal(t, tc.text, got.text)
				}
				for name, args := range tc.args {
					assert.JSONEq(t, args, got.args[name], name)
				}
				assert.Equal(t, finish[to][tc.finish], got.finish)
				if tc.usage.PromptTokens > 0 {
					want := tr.Usage()
					assert.True(t, want.Reported)
					assert.Equal(t, tc.usage, providers.Usage{PromptTokens: want.PromptTokens, CompletionTokens: want.CompletionTokens}, "the provider's count")
					assert.Equal(t, want.PromptTokens, got.usage.PromptTokens)
					assert.Equal(t, want.CompletionTokens, got.usage.CompletionTokens)
				}
			})
		}
	}
}

// TestStreamErrors: a provider's error event ends the client's stream in
// the client's error shape.
func TestStreamErrors(t *testing.T) {
	t.Parallel()
	for _, to := range []hub.Wire{hub.Chat, hub.Messages, hub.Responses} {
		t.Run(to.String(), func(t *testing.T) {
			t.Parallel()
			tr := hub.NewStream(hub.Messages, to, "m", 1, true, 10)
			var out []byte
			for _, ev := range events(t, "error.sse") {
				var err error
				out, err = tr.Translate(out, ev.Data)
				require.NoError(t, err)
			}
			assert.True(t, tr.Done())
			out = tr.Close(out) // a no-op after the error
			got := readStream(t, to, out)
			assert.Equal(t, "error", got.finish)
			assert.Contains(t, string(out), "Overloaded")
		})
	}
	tr := hub.NewStream(hub.Chat, hub.Messages, "m", 1, true, 10)
	out, err := tr.Translate(nil, []byte(`{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`))
	require.NoError(t, err)
	assert.Contains(t, string(out), "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}")
}

// FuzzStream checks that no upstream event panics a translator and that
// every frame written is valid JSON.
func FuzzStream(f *testing.F) {
	for _, file := range []string{"text.sse", "tool_use.sse", "error.sse", "chat_tools.sse", "web_search.sse", "chat_citations.sse"} {
		raw := readTestdataF(f, filepath.Join("streams", file))
		var p sse.Parser
		p.Feed(raw)
		for {
			ev, ok, err := p.Next()
			if err != nil || !ok {
				break
			}
			f.Add(append([]byte(nil), ev.Data...))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, from := range []hub.Wire{hub.Chat, hub.Messages} {
			for _, to := range []hub.Wire{hub.Chat, hub.Messages, hub.Responses} {
				tr := hub.NewStream(from, to, "m", 1, true, 5)
				out, err := tr.Translate(nil, data)
				if err != nil {
					continue
				}
				out = tr.Close(out)
				var p sse.Parser
				p.Feed(out)
				for {
					ev, ok, err := p.Next()
					require.NoError(t, err)
					if !ok {
						break
					}
					require.True(t, ev.IsDone() || json.Valid(ev.Data), "invalid frame %q from %q", ev.Data, data)
				}
			}
		}
	})
}

// TestStreamTruncate: a stream the proxy cuts ends with each format's
// truncation finish.
func TestStreamTruncate(t *testing.T) {
	t.Parallel()
	want := map[hub.Wire]string{hub.Chat: "length", hub.Messages: "max_tokens", hub.Responses: "incomplete"}
	for _, from := range []hub.Wire{hub.Chat, hub.Messages} {
		for _, to := range []hub.Wire{hub.Chat, hub.Messages, hub.Responses} {
			tr := hub.NewStream(from, to, "m", 1, true, 10)
			data := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"cut"}}`)
			if from == hub.Chat {
				data = []byte(`{"id":"c","choices":[{"index":0,"delta":{"content":"cut"},"finish_reason":null}]}`)
			}
			out, err := tr.Translate(nil, data)
			require.NoError(t, err)
			out = tr.Truncate(out)
			assert.Equal(t, string(out), string(tr.Truncate(out)), "idempotent")
			got := readStream(t, to, out)
			assert.Equal(t, want[to], got.finish, "%s → %s", from, to)
			assert.Equal(t, "cut", got.text)
			assert.True(t, got.done)
		}
	}
}
