package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var weatherTool = []map[string]any{{
	"type":     "function",
	"function": map[string]any{"name": "get_weather", "parameters": map[string]any{"type": "object"}},
}}

func TestChatCompletion(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name       string
		user       string
		extra      map[string]any
		wantText   string
		wantTool   string
		wantFinish string
		wantCached int
		wantReason int
		noUsage    bool
	}{
		{name: "echo", user: "Hello, world!", wantText: "Echo: Hello, world!", wantFinish: "stop"},
		{name: "max_tokens caps", user: "one two three", extra: map[string]any{"max_tokens": 3},
			wantText: "Echo: one", wantFinish: "length"},
		{name: "max_completion_tokens caps", user: "one two three", extra: map[string]any{"max_completion_tokens": 4},
			wantText: "Echo: one two", wantFinish: "length"},
		{name: "long", user: "[[fake:long=50]]", wantText: filler(50), wantFinish: "stop"},
		{name: "long capped", user: "[[fake:long=50]]", extra: map[string]any{"max_tokens": 10},
			wantText: filler(10), wantFinish: "length"},
		{name: "tools but no ask", user: "hi", extra: map[string]any{"tools": weatherTool},
			wantText: "Echo: hi", wantFinish: "stop"},
		{name: "tool by directive", user: "weather in Paris [[fake:tool]]", extra: map[string]any{"tools": weatherTool},
			wantTool: "get_weather", wantText: `{"input":"weather in Paris"}`, wantFinish: "tool_calls"},
		{name: "tool by mention", user: "call get_weather for Paris", extra: map[string]any{"tools": weatherTool},
			wantTool: "get_weather", wantText: `{"input":"call get_weather for Paris"}`, wantFinish: "tool_calls"},
		{name: "tool_choice required", user: "hi", extra: map[string]any{"tools": weatherTool, "tool_choice": "required"},
			wantTool: "get_weather", wantText: `{"input":"hi"}`, wantFinish: "tool_calls"},
		{name: "tool_choice named", user: "hi", extra: map[string]any{"tools": weatherTool,
			"tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}},
			wantTool: "get_weather", wantText: `{"input":"hi"}`, wantFinish: "tool_calls"},
		{name: "tool_choice none", user: "get_weather [[fake:tool]]", extra: map[string]any{"tools": weatherTool, "tool_choice": "none"},
			wantText: "Echo: get_weather", wantFinish: "stop"},
		{name: "cached and reasoning", user: "hi [[fake:cached=3,reasoning=5]]",
			wantText: "Echo: hi", wantFinish: "stop", wantCached: 3, wantReason: 5},
		{name: "nousage", user: "hi [[fake:nousage]]", wantText: "Echo: hi", wantFinish: "stop", noUsage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := chatBody(t, tc.user, tc.extra)
			res := postOpenAI(t, url, "/v1/chat/completions", body)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			assert.Equal(t, "application/json", res.header.Get("Content-Type"))
			assert.True(t, strings.HasPrefix(res.header.Get("X-Request-Id"), "req_"))
			var got chatCompletion
			decodeStrict(t, res.body, &got)
			assert.True(t, strings.HasPrefix(got.ID, "chatcmpl-"))
			assert.Equal(t, "chat.completion", got.Object)
			assert.Equal(t, "gpt-4o", got.Model)
			assert.NotZero(t, got.Created)
			require.Len(t, got.Choices, 1)
			ch := got.Choices[0]
			assert.Equal(t, "assistant", ch.Message.Role)
			assert.Equal(t, tc.wantFinish, ch.FinishReason)
			completion := CountTokens(tc.wantText) + tc.wantReason
			if tc.wantTool != "" {
				assert.Nil(t, ch.Message.Content)
				require.Len(t, ch.Message.ToolCalls, 1)
				tcall := ch.Message.ToolCalls[0]
				assert.Equal(t, "function", tcall.Type)
				assert.True(t, strings.HasPrefix(tcall.ID, "call_"))
				assert.Equal(t, tc.wantTool, tcall.Function.Name)
				assert.Equal(t, tc.wantText, tcall.Function.Arguments)
				assert.True(t, json.Valid([]byte(tcall.Function.Arguments)))
				completion += CountTokens(tc.wantTool)
			} else {
				require.NotNil(t, ch.Message.Content)
				assert.Equal(t, tc.wantText, *ch.Message.Content)
				assert.Empty(t, ch.Message.ToolCalls)
			}
			if tc.noUsage {
				assert.Nil(t, got.Usage)
				return
			}
			prompt := CountTokens("Be brief.") + CountTokens(tc.user) + framing(2)
			require.NotNil(t, got.Usage)
			assert.Equal(t, prompt, got.Usage.PromptTokens)
			assert.Equal(t, completion, got.Usage.CompletionTokens)
			assert.Equal(t, prompt+completion, got.Usage.TotalTokens)
			assert.Equal(t, tc.wantCached, got.Usage.PromptTokensDetails.CachedTokens)
			assert.Equal(t, tc.wantReason, got.Usage.CompletionTokensDetails.ReasoningTokens)

			pred, err := Predict("/v1/chat/completions", []byte(body))
			require.NoError(t, err)
			assert.Equal(t, tc.wantText, pred.Text)
			assert.Equal(t, tc.wantTool, pred.ToolName)
			assert.Equal(t, prompt, pred.PromptTokens)
			assert.Equal(t, completion, pred.CompletionTokens)
		})
	}
}

func TestChatPromptTokensCountEveryText(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	body := `{"model":"gpt-4o","messages":[
		{"role":"developer","content":"Rules here."},
		{"role":"user","content":[{"type":"text","text":"What is"},{"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"this?"}]},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"look","arguments":"{\"q\":1}"}}]},
		{"role":"tool","tool_call_id":"call_1","content":"a cat"}],
		"tools":[{"type":"function","function":{"name":"look"}}]}`
	res := postOpenAI(t, url, "/v1/chat/completions", body)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var got chatCompletion
	decodeStrict(t, res.body, &got)
	want := CountTokens("Rules here.") + CountTokens("What is this?") + CountTokens("look") + CountTokens(`{"q":1}`) + CountTokens("a cat") + framing(4)
	assert.Equal(t, want, got.Usage.PromptTokens)
	// The last turn is a tool result: the fake answers it instead of calling again.
	require.NotNil(t, got.Choices[0].Message.Content)
	assert.Equal(t, "Echo: a cat", *got.Choices[0].Message.Content)
}

func TestChatInvalidRequests(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name string
		body string
	}{
		{name: "not json", body: "{"},
		{name: "no model", body: `{"messages":[{"role":"user","content":"hi"}]}`},
		{name: "no messages", body: `{"model":"gpt-4o","messages":[]}`},
		{name: "stream_options without stream", body: `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}`},
		{name: "zero max_tokens", body: `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":0}`},
		{name: "bad content", body: `{"model":"gpt-4o","messages":[{"role":"user","content":5}]}`},
		{name: "bad tool_choice", body: `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tool_choice":"maybe"}`},
		{name: "unknown directive", body: `{"model":"gpt-4o","messages":[{"role":"user","content":"[[fake:boom]]"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := postOpenAI(t, url, "/v1/chat/completions", tc.body)
			require.Equal(t, http.StatusBadRequest, res.status)
			var e oaError
			decodeStrict(t, res.body, &e)
			assert.Equal(t, "invalid_request_error", e.Error.Type)
			assert.NotEmpty(t, e.Error.Message)
		})
	}
}

// chatStream posts a streaming chat request and returns its decoded chunks;
// it checks the framing ([DONE] last, nothing after it).
func chatStream(t *testing.T, url, body string) []chatChunk {
	t.Helper()
	res := postOpenAI(t, url, "/v1/chat/completions", body)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.NoError(t, res.err)
	assert.Equal(t, "text/event-stream; charset=utf-8", res.header.Get("Content-Type"))
	events := parseSSE(t, res.body)
	require.NotEmpty(t, events)
	require.Equal(t, "[DONE]", events[len(events)-1].data)
	chunks := make([]chatChunk, 0, len(events)-1)
	for _, ev := range events[:len(events)-1] {
		assert.Empty(t, ev.event)
		var c chatChunk
		decodeStrict(t, []byte(ev.data), &c)
		assert.Equal(t, "chat.completion.chunk", c.Object)
		chunks = append(chunks, c)
	}
	return chunks
}

func TestChatStream(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name         string
		user         string
		extra        map[string]any
		wantText     string
		wantFinish   string
		wantUsage    bool
		usageNullKey bool
	}{
		{name: "no stream_options", user: "Hello there, friend", wantText: "Echo: Hello there, friend", wantFinish: "stop"},
		{name: "include_usage false", user: "Hello", extra: map[string]any{"stream_options": map[string]any{"include_usage": false}},
			wantText: "Echo: Hello", wantFinish: "stop"},
		{name: "include_usage true", user: "Hello there", extra: map[string]any{"stream_options": map[string]any{"include_usage": true}},
			wantText: "Echo: Hello there", wantFinish: "stop", wantUsage: true, usageNullKey: true},
		{name: "nousage despite include_usage", user: "Hello [[fake:nousage]]", extra: map[string]any{"stream_options": map[string]any{"include_usage": true}},
			wantText: "Echo: Hello", wantFinish: "stop", usageNullKey: true},
		{name: "capped", user: "a b c d e", extra: map[string]any{"max_tokens": 4, "stream_options": map[string]any{"include_usage": true}},
			wantText: "Echo: a b", wantFinish: "length", wantUsage: true, usageNullKey: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			extra := map[string]any{"stream": true}
			for k, v := range tc.extra {
				extra[k] = v
			}
			body := chatBody(t, tc.user, extra)
			res := postOpenAI(t, url, "/v1/chat/completions", body)
			require.Equal(t, http.StatusOK, res.status)
			// "usage":null on every chunk exactly when include_usage is set.
			assert.Equal(t, tc.usageNullKey, strings.Contains(string(res.body), `"usage":null`))
			chunks := chatStream(t, url, body)

			first := chunks[0]
			require.Len(t, first.Choices, 1)
			assert.Equal(t, "assistant", first.Choices[0].Delta.Role)
			assert.Nil(t, first.Choices[0].FinishReason)

			var text strings.Builder
			contentChunks := 0
			finishAt := -1
			for i, c := range chunks[1:] {
				assert.Equal(t, first.ID, c.ID, "one id per stream")
				if len(c.Choices) == 0 {
					continue
				}
				if fr := c.Choices[0].FinishReason; fr != nil {
					assert.Equal(t, tc.wantFinish, *fr)
					finishAt = i + 1
					continue
				}
				require.NotNil(t, c.Choices[0].Delta.Content)
				text.WriteString(*c.Choices[0].Delta.Content)
				contentChunks++
			}
			assert.Equal(t, tc.wantText, text.String())
			assert.Equal(t, CountTokens(tc.wantText), contentChunks, "one delta per token")
			assert.Greater(t, contentChunks, 1, "content split into several chunks")
			last := chunks[len(chunks)-1]
			if tc.wantUsage {
				assert.Equal(t, len(chunks)-2, finishAt, "usage chunk follows the finish chunk")
				assert.Empty(t, last.Choices)
				require.NotNil(t, last.Usage)
				prompt := CountTokens("Be brief.") + CountTokens(tc.user) + framing(2)
				assert.Equal(t, prompt, last.Usage.PromptTokens)
				assert.Equal(t, contentChunks, last.Usage.CompletionTokens)
				assert.Equal(t, prompt+contentChunks, last.Usage.TotalTokens)
			} else {
				assert.Equal(t, len(chunks)-1, finishAt, "finish chunk is last")
				for _, c := range chunks {
					assert.Nil(t, c.Usage)
					assert.NotEmpty(t, c.Choices)
				}
			}
		})
	}
}

func TestChatStreamToolCall(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	body := chatBody(t, "Paris [[fake:tool=get_weather]]", map[string]any{"stream": true, "tools": weatherTool,
		"stream_options": map[string]any{"include_usage": true}})
	chunks := chatStream(t, url, body)
	first := chunks[0].Choices[0].Delta
	assert.Nil(t, first.Content)
	require.Len(t, first.ToolCalls, 1)
	assert.Equal(t, "get_weather", first.ToolCalls[0].Function.Name)
	assert.True(t, strings.HasPrefix(first.ToolCalls[0].ID, "call_"))
	var args strings.Builder
	for _, c := range chunks[1:] {
		if len(c.Choices) == 1 && c.Choices[0].FinishReason == nil {
			require.Len(t, c.Choices[0].Delta.ToolCalls, 1)
			args.WriteString(c.Choices[0].Delta.ToolCalls[0].Function.Arguments)
		}
	}
	assert.Equal(t, `{"input":"Paris"}`, args.String())
	finish := chunks[len(chunks)-2].Choices[0].FinishReason
	require.NotNil(t, finish)
	assert.Equal(t, "tool_calls", *finish)
	usage := chunks[len(chunks)-1].Usage
	require.NotNil(t, usage)
	assert.Equal(t, CountTokens("get_weather")+CountTokens(`{"input":"Paris"}`), usage.CompletionTokens)
}
