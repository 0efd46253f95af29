package hub_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

func TestChatToMessagesGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opt  hub.Options
	}{
		{"chat_basic", hub.Options{Prepend: policyPrompts[:1]}},
		{"chat_tools", hub.Options{Model: "claude-sonnet-4-6", DefaultMaxTokens: 4096}},
		{"chat_images", hub.Options{Prepend: policyPrompts}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := readTestdata(t, filepath.Join("translate", tc.name+".json"))
			out, err := fromChat(in, tc.opt)
			require.NoError(t, err)
			require.True(t, json.Valid(out), "invalid JSON: %s", out)
			golden(t, filepath.Join("translate", tc.name+".anthropic.json"), out)

			// The translation is a valid Anthropic request whose texts
			// are the texts the OpenAI request carried.
			req, err := anthropic.ParseRequest(out)
			require.NoError(t, err)
			assert.Positive(t, req.MaxTokens)
			assert.NotEmpty(t, req.Model)
			checkAlternation(t, out)
		})
	}
}

// checkAlternation asserts that messages alternate roles and hold no
// empty content, as the Messages API requires.
func checkAlternation(t *testing.T, body []byte) {
	t.Helper()
	var req struct {
		Messages []struct {
			Role    string            `json:"role"`
			Content []json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	require.NoError(t, json.Unmarshal(body, &req))
	for i, m := range req.Messages {
		assert.NotEmpty(t, m.Content, "message %d is empty", i)
		if i > 0 {
			assert.NotEqual(t, req.Messages[i-1].Role, m.Role, "messages %d and %d share a role", i-1, i)
		}
	}
}

func TestChatToMessagesMapping(t *testing.T) {
	t.Parallel()
	in := readTestdata(t, filepath.Join("translate", "chat_tools.json"))
	out, err := fromChat(in, hub.Options{DefaultMaxTokens: 100})
	require.NoError(t, err)
	var req struct {
		Model     string `json:"model"`
		MaxTokens int    `json:"max_tokens"`
		System    []struct {
			Text string `json:"text"`
		} `json:"system"`
		Messages []struct {
			Role    string `json:"role"`
			Content []struct {
				Type      string          `json:"type"`
				Text      string          `json:"text"`
				ID        string          `json:"id"`
				Name      string          `json:"name"`
				Input     json.RawMessage `json:"input"`
				ToolUseID string          `json:"tool_use_id"`
				Content   json.RawMessage `json:"content"`
			} `json:"content"`
		} `json:"messages"`
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"input_schema"`
		} `json:"tools"`
		ToolChoice    map[string]any `json:"tool_choice"`
		StopSequences []string       `json:"stop_sequences"`
	}
	require.NoError(t, json.Unmarshal(out, &req))
	assert.Equal(t, "claude-haiku-4-5", req.Model)
	assert.Equal(t, 100, req.MaxTokens)
	require.Len(t, req.System, 1)
	assert.Equal(t, "Use tools when useful.", req.System[0].Text)
	require.Len(t, req.Messages, 3)
	assert.Equal(t, "user", req.Messages[0].Role)
	asst := req.Messages[1]
	assert.Equal(t, "assistant", asst.Role)
	require.Len(t, asst.Content, 3)
	assert.Equal(t, "Checking.", asst.Content[0].Text)
	assert.Equal(t, "tool_use", asst.Content[1].Type)
	assert.Equal(t, "call_1", asst.Content[1].ID)
	assert.JSONEq(t, `{"location":"Paris, FR"}`, string(asst.Content[1].Input))
	assert.JSONEq(t, `{}`, string(asst.Content[2].Input), "empty arguments become {}")
	results := req.Messages[2]
	assert.Equal(t, "user", results.Role, "tool results and the next user turn merge")
	require.Len(t, results.Content, 3)
	assert.Equal(t, "tool_result", results.Content[0].Type)
	assert.Equal(t, "call_1", results.Content[0].ToolUseID)
	assert.JSONEq(t, `"18°C, cloudy"`, string(results.Content[0].Content))
	assert.JSONEq(t, `[{"type":"text","text":"14:05"}]`, string(results.Content[1].Content))
	assert.Equal(t, "Thanks! Any umbrella needed?", results.Content[2].Text)
	require.Len(t, req.Tools, 2)
	assert.JSONEq(t, `{"type":"object","properties":{}}`, string(req.Tools[1].InputSchema))
	assert.Equal(t, map[string]any{"type": "any", "disable_parallel_tool_use": true}, req.ToolChoice)
	assert.Equal(t, []string{"\n\nHuman:", "###"}, req.StopSequences)
}

func TestChatToMessagesErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		opt  hub.Options
		err  error
	}{
		{"no max tokens", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, hub.Options{}, hub.ErrNoMaxTokens},
		{"n above one", `{"model":"m","n":2,"max_tokens":5,"messages":[]}`, hub.Options{}, hub.ErrUnsupported},
		{"audio part", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, hub.Options{}, hub.ErrUnsupported},
		{"function role", `{"model":"m","max_tokens":5,"messages":[{"role":"function","name":"f","content":"x"}]}`, hub.Options{}, hub.ErrUnsupported},
		{"legacy functions", `{"model":"m","max_tokens":5,"functions":[],"messages":[]}`, hub.Options{}, hub.ErrUnsupported},
		{"bad arguments", `{"model":"m","max_tokens":5,"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1,2]"}}]}]}`, hub.Options{}, hub.ErrToolArguments},
		{"truncated arguments", `{"model":"m","max_tokens":5,"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]}]}`, hub.Options{}, hub.ErrToolArguments},
		{"no messages", `{"model":"m","max_tokens":5}`, hub.Options{}, providers.ErrType},
		{"malformed", `{"model":"m","max_tokens":5,"messages":[`, hub.Options{}, providers.ErrSyntax},
		{"no model", `{"max_tokens":5,"messages":[]}`, hub.Options{}, providers.ErrType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := fromChat([]byte(tc.body), tc.opt)
			assert.ErrorIs(t, err, tc.err)
		})
	}
}

func TestMessagesResponseToChatGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		model     string
		wantUsage providers.Usage
	}{
		{"response_text", "", providers.Usage{PromptTokens: 3895, CompletionTokens: 503, CachedTokens: 1800, Reported: true}},
		{"response_tool_use", "claude-haiku-4-5-20251001", providers.Usage{PromptTokens: 572, CompletionTokens: 89, Reported: true}},
		{"response_max_tokens", "", providers.Usage{PromptTokens: 10, CompletionTokens: 1, Reported: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := readTestdata(t, filepath.Join("translate", tc.name+".json"))
			out, err := toChat(in, tc.model, 1750000000)
			require.NoError(t, err)
			require.True(t, json.Valid(out), "invalid JSON: %s", out)
			golden(t, filepath.Join("translate", tc.name+".openai.json"), out)
			u, err := openai.ParseResponseUsage(out)
			require.NoError(t, err)
			assert.Equal(t, tc.wantUsage, u)
		})
	}
	_, err := toChat([]byte(`{"type":"error","error":{"type":"api_error","message":"boom"}}`), "", 1)
	assert.ErrorIs(t, err, hub.ErrNotResponse)
}

func TestStreamMessagesToChatGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		file         string
		includeUsage bool
		wantUsage    providers.Usage
		wantText     string
		wantArgs     map[int]string
	}{
		{"text with usage", "text.sse", true, providers.Usage{PromptTokens: 25, CompletionTokens: 15, Reported: true}, "Hello! Here is a \"quoted\" word,\na new line and café 😀.", nil},
		{"tool use", "tool_use.sse", false, providers.Usage{}, "I'll check the weather.", map[int]string{0: `{"location": "San Francisco, CA", "unit": "fahrenheit"}`}},
		{"thinking", "thinking.sse", true, providers.Usage{PromptTokens: 40, CompletionTokens: 61, Reported: true}, "2 + 2 = 4", nil},
		{"error", "error.sse", false, providers.Usage{}, "Partial", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := hub.NewStream(hub.Messages, hub.Chat, "", 1750000000, tc.includeUsage, 10)
			var out []byte
			for _, ev := range events(t, tc.file) {
				var err error
				out, err = tr.Translate(out, ev.Data)
				require.NoError(t, err)
			}
			out = tr.Close(out) // no-op after message_stop or error
			golden(t, filepath.Join("streams", tc.file[:len(tc.file)-4]+".chat.sse"), out)

			// Read the translation back as an OpenAI client would.
			st := openai.NewStreamState(openai.Chat, 0)
			var p sse.Parser
			p.Feed(out)
			var text string
			args := map[int]string{}
			for {
				ev, ok, err := p.Next()
				require.NoError(t, err)
				if !ok {
					break
				}
				require.True(t, ev.IsDone() || json.Valid(ev.Data), "invalid frame %s", ev.Data)
				refs, err := st.Feed(nil, ev.Data)
				require.NoError(t, err)
				for _, r := range refs {
					b, err := providers.DecodeText(nil, ev.Data, r)
					require.NoError(t, err)
					if r.Kind == providers.TextToolArgs {
						args[r.Part] += string(b)
					} else {
						text += string(b)
					}
				}
			}
			assert.Equal(t, tc.wantText, text)
			if tc.wantArgs != nil {
				assert.Equal(t, tc.wantArgs, args)
			}
			if tc.includeUsage {
				assert.Equal(t, tc.wantUsage, st.Usage())
			}
			assert.Equal(t, tc.name != "error", st.Done())
		})
	}
}

func TestStreamMessagesToChatClose(t *testing.T) {
	t.Parallel()
	tr := hub.NewStream(hub.Messages, hub.Chat, "claude-x", 7, true, 33)
	out, err := tr.Translate(nil, []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"cut"}}`))
	require.NoError(t, err)
	out = tr.Close(out)
	assert.True(t, tr.Done())
	want := `data: {"id":"","object":"chat.completion.chunk","created":7,"model":"claude-x","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}` + "\n\n" +
		`data: {"id":"","object":"chat.completion.chunk","created":7,"model":"claude-x","choices":[{"index":0,"delta":{"content":"cut"},"logprobs":null,"finish_reason":null}]}` + "\n\n" +
		`data: {"id":"","object":"chat.completion.chunk","created":7,"model":"claude-x","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}` + "\n\n" +
		`data: {"id":"","object":"chat.completion.chunk","created":7,"model":"claude-x","choices":[],"usage":{"prompt_tokens":33,"completion_tokens":1,"total_tokens":34,"prompt_tokens_details":{"cached_tokens":0}}}` + "\n\n" +
		"data: [DONE]\n\n"
	assert.Equal(t, want, string(out))
	assert.Equal(t, string(out), string(tr.Close(out)), "Close is idempotent")
	assert.Equal(t, providers.Usage{PromptTokens: 33, CompletionTokens: 1}, tr.Usage())
}

func TestTranslateErrorToChat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"invalid request", 400, `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"},"request_id":"req_1"}`,
			`{"error":{"message":"max_tokens: Field required","type":"invalid_request_error","param":null,"code":null}}`},
		{"auth", 401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`,
			`{"error":{"message":"invalid x-api-key","type":"authentication_error","param":null,"code":"invalid_api_key"}}`},
		{"rate limit", 429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`,
			`{"error":{"message":"Number of request tokens has exceeded your per-minute rate limit","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`},
		{"overloaded", 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			`{"error":{"message":"Overloaded","type":"server_error","param":null,"code":"overloaded"}}`},
		{"not found", 404, `{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}`,
			`{"error":{"message":"model: claude-x","type":"invalid_request_error","param":null,"code":"not_found"}}`},
		{"unknown type uses status", 403, `{"type":"error","error":{"type":"new_error","message":"m"}}`,
			`{"error":{"message":"m","type":"permission_error","param":null,"code":"permission_denied"}}`},
		{"html body", 502, `<html>Bad Gateway</html>`,
			`{"error":{"message":"upstream error (status 502)","type":"server_error","param":null,"code":null}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := hub.TranslateError(hub.Chat, tc.status, []byte(tc.body))
			assert.Equal(t, tc.want, string(got))
			assert.True(t, json.Valid(got))
		})
	}
}

// FuzzDecodeChat checks that translation never panics and that a
// successful translation is valid JSON accepted by ParseRequest.
func FuzzDecodeChat(f *testing.F) {
	for _, name := range []string{"chat_basic", "chat_tools", "chat_images"} {
		f.Add(readTestdataF(f, filepath.Join("translate", name+".json")))
	}
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"tool","tool_call_id":"x","content":null},{"role":"assistant","content":[],"tool_calls":[]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := fromChat(body, hub.Options{Prepend: policyPrompts, DefaultMaxTokens: 10})
		if err != nil {
			return
		}
		require.True(t, json.Valid(out), "invalid JSON from %q: %s", body, out)
		_, err = anthropic.ParseRequest(out)
		require.NoError(t, err)
		_, _ = toChat(body, "m", 1)
		_ = hub.TranslateError(hub.Chat, 500, body)
	})
}
