package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// The translation matrix: every client format (Chat Completions, Responses,
// Anthropic Messages) against a GPT model (OpenAI provider) and a Claude
// model (Anthropic provider), streamed and not, for each feature: text with
// a system prompt, the output cap, a forced tool call, a tool result round
// trip, an image, structured output, and a provider error. Each cell goes
// through the real binary and the fake upstream; the answer must be the
// one the fake gave (text, tool call, finish reason in the client's terms,
// usage), and the budget must be charged exactly what the fake reported.

// tmFeature is what a cell asks for.
type tmFeature uint8

const (
	tmText tmFeature = iota
	tmLength
	tmToolCall
	tmToolResult
	tmImage
	tmStructured
	tmError
)

var tmFeatures = []struct {
	name string
	f    tmFeature
}{
	{"text", tmText}, {"length", tmLength}, {"tool call", tmToolCall}, {"tool result", tmToolResult},
	{"image", tmImage}, {"structured output", tmStructured}, {"provider error", tmError},
}

const (
	tmSchema   = `{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}}},"required":["city","celsius","tags"],"additionalProperties":false}`
	tmParams   = `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`
	tmImageB64 = "iVBORw0KGgoAAAANSUhEUg=="
)

// tmAnswer is what a client read from an answer.
type tmAnswer struct {
	text, finish string
	tool, args   string
	usage        int64 // prompt + completion as the client sees it; -1 if none
}

// tmClient is one client wire format.
type tmClient struct {
	name, path string
	// finish maps the fake's outcome (end, length, tool) to the client's word.
	finish map[string]string
	body   func(model, user string, f tmFeature, stream bool) string
	read   func(t *testing.T, body []byte, stream bool) tmAnswer
	hdr    func(tok string) []string
	// errShape checks an error body and returns its rate-limit marker:
	// OpenAI's code, Anthropic's type.
	errShape func(t *testing.T, body []byte) string
}

func tmJSON(v string) string { b, _ := json.Marshal(v); return string(b) }

var tmClients = []tmClient{
	{
		name: "chat", path: "/v1/chat/completions",
		finish: map[string]string{"end": "stop", "length": "length", "tool": "tool_calls"},
		hdr:    func(tok string) []string { return []string{"Authorization", "Bearer " + tok} },
		body: func(model, user string, f tmFeature, stream bool) string {
			msgs := `{"role":"system","content":"Be brief."},`
			switch f {
			case tmImage:
				msgs += `{"role":"user","content":[{"type":"text","text":` + tmJSON(user) + `},{"type":"image_url","image_url":{"url":"data:image/png;base64,` + tmImageB64 + `"}}]}`
			case tmToolResult:
				msgs += `{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
					`{"role":"tool","tool_call_id":"call_1","content":` + tmJSON(user) + `}`
			default:
				msgs += `{"role":"user","content":` + tmJSON(user) + `}`
			}
			s := `{"model":"` + model + `","messages":[` + msgs + `]`
			switch f {
			case tmLength:
				s += `,"max_tokens":5`
			case tmToolCall:
				s += `,"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":` + tmParams + `}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}}`
			case tmToolResult:
				s += `,"tools":[{"type":"function","function":{"name":"get_weather","parameters":` + tmParams + `}}]`
			case tmStructured:
				s += `,"response_format":{"type":"json_schema","json_schema":{"name":"weather","strict":true,"schema":` + tmSchema + `}}`
			}
			if stream {
				s += `,"stream":true,"stream_options":{"include_usage":true}`
			}
			return s + "}"
		},
		read: func(t *testing.T, body []byte, stream bool) tmAnswer {
			if !stream {
				m := pxJSON(t, string(body))
				require.Equal(t, "chat.completion", pxStr(m, "object"), string(body))
				return tmAnswer{text: pxStr(m, "choices", 0, "message", "content"), finish: pxStr(m, "choices", 0, "finish_reason"),
					tool:  pxStr(m, "choices", 0, "message", "tool_calls", 0, "function", "name"),
					args:  pxStr(m, "choices", 0, "message", "tool_calls", 0, "function", "arguments"),
					usage: pxNum(m, "usage", "prompt_tokens") + pxNum(m, "usage", "completion_tokens")}
			}
			data, _ := pxSSE(body)
			require.NotEmpty(t, data)
			require.Equal(t, "[DONE]", data[len(data)-1], "a chat stream ends with [DONE]")
			a := tmAnswer{usage: -1}
			for _, d := range data[:len(data)-1] {
				m := pxJSON(t, d)
				require.Equal(t, "chat.completion.chunk", pxStr(m, "object"), d)
				a.text += pxStr(m, "choices", 0, "delta", "content")
				if n := pxStr(m, "choices", 0, "delta", "tool_calls", 0, "function", "name"); n != "" {
					a.tool = n
				}
				a.args += pxStr(m, "choices", 0, "delta", "tool_calls", 0, "function", "arguments")
				if f := pxStr(m, "choices", 0, "finish_reason"); f != "" {
					a.finish = f
				}
				if u, ok := pxGet(m, "usage").(map[string]any); ok {
					a.usage = pxNum(u, "prompt_tokens") + pxNum(u, "completion_tokens")
				}
			}
			return a
		},
		errShape: func(t *testing.T, body []byte) string { code, _, _ := pxOpenAIError(t, body); return code },
	},
	{
		name: "responses", path: "/v1/responses",
		finish: map[string]string{"end": "completed", "length": "incomplete", "tool": "completed"},
		hdr:    func(tok string) []string { return []string{"Authorization", "Bearer " + tok} },
		body: func(model, user string, f tmFeature, stream bool) string {
			var input string
			switch f {
			case tmImage:
				input = `[{"role":"user","content":[{"type":"input_text","text":` + tmJSON(user) + `},{"type":"input_image","image_url":"data:image/png;base64,` + tmImageB64 + `"}]}]`
			case tmToolResult:
				input = `[{"role":"user","content":"Weather in Paris?"},{"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},` +
					`{"type":"function_call_output","call_id":"call_1","output":` + tmJSON(user) + `}]`
			default:
				input = `[{"role":"user","content":[{"type":"input_text","text":` + tmJSON(user) + `}]}]`
			}
			s := `{"model":"` + model + `","instructions":"Be brief.","input":` + input
			switch f {
			case tmLength:
				s += `,"max_output_tokens":5`
			case tmToolCall:
				s += `,"tools":[{"type":"function","name":"get_weather","description":"Weather now","parameters":` + tmParams + `,"strict":false}],"tool_choice":{"type":"function","name":"get_weather"}`
			case tmToolResult:
				s += `,"tools":[{"type":"function","name":"get_weather","parameters":` + tmParams + `}]`
			case tmStructured:
				s += `,"text":{"format":{"type":"json_schema","name":"weather","strict":true,"schema":` + tmSchema + `}}`
			}
			if stream {
				s += `,"stream":true`
			}
			return s + "}"
		},
		read: func(t *testing.T, body []byte, stream bool) tmAnswer {
			readObject := func(m any) tmAnswer {
				require.Equal(t, "response", pxStr(m, "object"))
				a := tmAnswer{finish: pxStr(m, "status"), usage: pxNum(m, "usage", "input_tokens") + pxNum(m, "usage", "output_tokens")}
				items, _ := pxGet(m, "output").([]any)
				for _, it := range items {
					switch pxStr(it, "type") {
					case "message":
						a.text += pxStr(it, "content", 0, "text")
					case "function_call":
						a.tool, a.args = pxStr(it, "name"), pxStr(it, "arguments")
						assert.NotEmpty(t, pxStr(it, "call_id"))
					}
				}
				return a
			}
			if !stream {
				return readObject(pxJSON(t, string(body)))
			}
			data, names := pxSSE(body)
			require.NotEmpty(t, data)
			var a, final tmAnswer
			seq := int64(-1)
			for i, d := range data {
				m := pxJSON(t, d)
				typ := pxStr(m, "type")
				assert.Equal(t, names[i], typ, "event name and type agree")
				assert.Equal(t, seq+1, pxNum(m, "sequence_number"), "sequence numbers increase: %s", d)
				seq = pxNum(m, "sequence_number")
				switch typ {
				case "response.output_text.delta":
					a.text += pxStr(m, "delta")
				case "response.function_call_arguments.delta":
					a.args += pxStr(m, "delta")
				case "response.output_item.added":
					if pxStr(m, "item", "type") == "function_call" {
						a.tool = pxStr(m, "item", "name")
					}
				case "response.completed", "response.incomplete":
					require.Equal(t, len(data)-1, i, "the final event ends the stream")
					final = readObject(pxGet(m, "response"))
				}
			}
			// The final object repeats what the deltas said.
			assert.Equal(t, a.text, final.text)
			assert.Equal(t, a.args, final.args)
			assert.Equal(t, a.tool, final.tool)
			return final
		},
		errShape: func(t *testing.T, body []byte) string { code, _, _ := pxOpenAIError(t, body); return code },
	},
	{
		name: "messages", path: "/v1/messages",
		finish: map[string]string{"end": "end_turn", "length": "max_tokens", "tool": "tool_use"},
		hdr:    func(tok string) []string { return []string{"x-api-key", tok, "anthropic-version", "2023-06-01"} },
		body: func(model, user string, f tmFeature, stream bool) string {
			var msgs string
			switch f {
			case tmImage:
				msgs = `{"role":"user","content":[{"type":"text","text":` + tmJSON(user) + `},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + tmImageB64 + `"}}]}`
			case tmToolResult:
				msgs = `{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}]},` +
					`{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":` + tmJSON(user) + `}]}`
			default:
				msgs = `{"role":"user","content":` + tmJSON(user) + `}`
			}
			maxTokens := "300"
			if f == tmLength {
				maxTokens = "5"
			}
			s := `{"model":"` + model + `","max_tokens":` + maxTokens + `,"system":"Be brief.","messages":[` + msgs + `]`
			switch f {
			case tmToolCall:
				s += `,"tools":[{"name":"get_weather","description":"Weather now","input_schema":` + tmParams + `}],"tool_choice":{"type":"tool","name":"get_weather"}`
			case tmToolResult:
				s += `,"tools":[{"name":"get_weather","input_schema":` + tmParams + `}]`
			case tmStructured:
				s += `,"output_config":{"format":{"type":"json_schema","schema":` + tmSchema + `}}`
			}
			if stream {
				s += `,"stream":true`
			}
			return s + "}"
		},
		read: func(t *testing.T, body []byte, stream bool) tmAnswer {
			if !stream {
				m := pxJSON(t, string(body))
				require.Equal(t, "message", pxStr(m, "type"), string(body))
				a := tmAnswer{finish: pxStr(m, "stop_reason"), usage: pxNum(m, "usage", "input_tokens") +
					pxNum(m, "usage", "cache_read_input_tokens") + pxNum(m, "usage", "output_tokens")}
				blocks, _ := pxGet(m, "content").([]any)
				for _, b := range blocks {
					switch pxStr(b, "type") {
					case "text":
						a.text += pxStr(b, "text")
					case "tool_use":
						in, _ := json.Marshal(pxGet(b, "input"))
						a.tool, a.args = pxStr(b, "name"), string(in)
					}
				}
				return a
			}
			data, names := pxSSE(body)
			require.NotEmpty(t, names)
			require.Equal(t, "message_stop", names[len(names)-1])
			a := tmAnswer{}
			var in, out int64
			open := map[int64]bool{}
			for i, d := range data {
				m := pxJSON(t, d)
				assert.Equal(t, names[i], pxStr(m, "type"), "event name and type agree")
				switch pxStr(m, "type") {
				case "message_start":
					in = pxNum(m, "message", "usage", "input_tokens")
				case "content_block_start":
					open[pxNum(m, "index")] = true
					if pxStr(m, "content_block", "type") == "tool_use" {
						a.tool = pxStr(m, "content_block", "name")
					}
				case "content_block_delta":
					assert.True(t, open[pxNum(m, "index")], "delta to an open block: %s", d)
					a.text += pxStr(m, "delta", "text")
					a.args += pxStr(m, "delta", "partial_json")
				case "content_block_stop":
					assert.True(t, open[pxNum(m, "index")])
					delete(open, pxNum(m, "index"))
				case "message_delta":
					a.finish = pxStr(m, "delta", "stop_reason")
					out = pxNum(m, "usage", "output_tokens")
					// The final count, when the provider reports it only at the end.
					if v, ok := pxGet(m, "usage", "input_tokens").(float64); ok && v > 0 {
						in = int64(v)
					}
				}
			}
			assert.Empty(t, open, "every block is closed")
			a.usage = in + out
			return a
		},
		errShape: func(t *testing.T, body []byte) string { typ, _ := sdkAnthropicError(t, body); return typ },
	},
}

var tmModels = []struct{ family, model string }{{"gpt", "gpt-4o"}, {"claude", "claude-sonnet-4-6"}}

// TestTranslateMatrix runs every cell; a subtest is named
// client/family/stream/feature.
func TestTranslateMatrix(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	for ci, c := range tmClients {
		for mi, m := range tmModels {
			t.Run(c.name+"/"+m.family, func(t *testing.T) {
				t.Parallel()
				tok, _ := px.token(t, `{"max_tokens":10000000}`)
				var mu sync.Mutex
				var charged int64
				t.Run("cells", func(t *testing.T) {
					for si, stream := range []bool{false, true} {
						for fi, f := range tmFeatures {
							marker := fmt.Sprintf("tm%d%d%d%dq", ci, mi, si, fi)
							name := "plain"
							if stream {
								name = "stream"
							}
							t.Run(name+"/"+f.name, func(t *testing.T) {
								t.Parallel()
								got := tmCell(t, px, c, m.model, tok, marker, f.f, stream)
								mu.Lock()
								charged += got
								mu.Unlock()
							})
						}
					}
				})
				b := pxSettled(t, px.url, tok)
				assert.Equal(t, charged, b.Used, "the budget is charged what the provider reported, cell by cell")
				assert.Zero(t, b.Reserved)
			})
		}
	}
}

// tmCell runs one cell and returns what the provider reported (charged).
func tmCell(t *testing.T, px *pxEnv, c tmClient, model, tok, marker string, f tmFeature, stream bool) int64 {
	user := "Hello " + marker
	switch f {
	case tmLength:
		user += " [[fake:long=40]]"
	case tmToolCall:
		user = "What is the weather " + marker + "?"
	case tmToolResult:
		user = "18C and sunny " + marker
	case tmError:
		user += " [[fake:status=429]]"
	}
	r := pxDo(t, "POST", px.url+c.path, c.body(model, user, f, stream), c.hdr(tok)...)
	up := pxFindRequest(t, px.fake, marker)
	assert.NotContains(t, string(up.Body), tok)
	if f == tmError {
		require.Equal(t, 429, r.status, string(r.body))
		want := "rate_limit_exceeded"
		if c.name == "messages" {
			want = "rate_limit_error"
		}
		assert.Equal(t, want, c.errShape(t, r.body), "the provider's 429 in the client's error shape")
		return 0
	}
	require.Equal(t, 200, r.status, string(r.body))
	if stream {
		assert.Contains(t, r.header.Get("Content-Type"), "text/event-stream")
	}
	pred, err := fakeupstream.Predict(up.Path, up.Body)
	require.NoError(t, err, "the fake accepts what the proxy sent: %s", up.Body)
	got := c.read(t, r.body, stream)
	total := int64(pred.PromptTokens + pred.CompletionTokens)
	assert.Equal(t, total, got.usage, "usage the client sees")

	switch f {
	case tmToolCall:
		assert.Equal(t, "get_weather", got.tool)
		assert.Equal(t, pred.ToolName, got.tool)
		assert.JSONEq(t, pred.Text, got.args, "tool arguments")
		assert.Equal(t, c.finish["tool"], got.finish)
		assert.Empty(t, got.text)
		return total
	case tmLength:
		assert.Equal(t, c.finish["length"], got.finish)
	default:
		assert.Equal(t, c.finish["end"], got.finish)
	}
	assert.Empty(t, got.tool, "no tool call")
	assert.Equal(t, pred.Text, got.text, "answer text")
	switch f {
	case tmStructured:
		var v struct {
			City    *string  `json:"city"`
			Celsius *int     `json:"celsius"`
			Tags    []string `json:"tags"`
		}
		require.NoError(t, json.Unmarshal([]byte(got.text), &v), "structured output is JSON: %q", got.text)
		assert.NotNil(t, v.City)
		assert.NotNil(t, v.Celsius)
		assert.NotEmpty(t, v.Tags)
		// The provider got the schema in its own native field.
		if strings.HasPrefix(model, "claude") {
			assert.Contains(t, string(up.Body), `"output_config":{"format":{"type":"json_schema"`)
		}
	case tmImage:
		assert.Contains(t, string(up.Body), tmImageB64, "the image reached the provider")
	case tmToolResult:
		assert.Contains(t, got.text, "18C and sunny", "the answer follows the tool result")
		assert.Contains(t, string(up.Body), "call_1")
	case tmText:
		assert.Contains(t, string(up.Body), "Be brief.", "the system prompt reached the provider")
	}
	return total
}

// TestTranslateRefusals: what one format can say and the provider's cannot
// is refused with 400 naming the field, in the client's error shape,
// before anything reaches the provider.
func TestTranslateRefusals(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"max_tokens":1000000}`)
	chat := func(extra string) string {
		return `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}],` + extra + `}`
	}
	cases := []struct {
		name, path, body, field string
	}{
		{"chat n above one to claude", "/v1/chat/completions", chat(`"n":2`), "n"},
		{"chat json_object to claude", "/v1/chat/completions", chat(`"response_format":{"type":"json_object"}`), "response_format.type"},
		{"chat audio part to claude", "/v1/chat/completions",
			`{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}`, "messages"},
		{"responses previous_response_id to claude", "/v1/responses",
			`{"model":"claude-sonnet-4-6","input":"hi","previous_response_id":"resp_1"}`, "previous_response_id"},
		{"responses item reference to claude", "/v1/responses",
			`{"model":"claude-sonnet-4-6","input":[{"type":"item_reference","id":"msg_1"},{"role":"user","content":"hi"}]}`, "input[0].type"},
		{"responses web search to claude", "/v1/responses",
			`{"model":"claude-sonnet-4-6","input":"hi","tools":[{"type":"web_search"}]}`, "tools[0].type"},
		{"responses file input to claude", "/v1/responses",
			`{"model":"claude-sonnet-4-6","input":[{"role":"user","content":[{"type":"input_file","file_id":"file_1"}]}]}`, "input[0].content"},
		{"messages document to gpt", "/v1/messages",
			`{"model":"gpt-4o","max_tokens":10,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]}`, "messages"},
		{"messages server tool to gpt", "/v1/messages",
			`{"model":"gpt-4o","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`, "tools[0].type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := pxDo(t, "POST", px.url+tc.path, tc.body, "Authorization", "Bearer "+tok, "anthropic-version", "2023-06-01")
			require.Equal(t, 400, r.status, string(r.body))
			var msg string
			if tc.path == "/v1/messages" {
				var typ string
				typ, msg = sdkAnthropicError(t, r.body)
				assert.Equal(t, "invalid_request_error", typ)
			} else {
				code, _, m := pxOpenAIError(t, r.body)
				assert.Equal(t, "unsupported_translation", code)
				var e struct {
					Error struct {
						Param string `json:"param"`
					} `json:"error"`
				}
				require.NoError(t, json.Unmarshal(r.body, &e))
				assert.Equal(t, tc.field, e.Error.Param)
				msg = m
			}
			assert.Contains(t, msg, tc.field, "the message names the field")
		})
	}
	assert.Empty(t, px.fake.Requests(), "a refused request reached the provider")
	b := pxSettled(t, px.url, tok)
	assert.Zero(t, b.Used, "a refused request costs nothing")
}
