package fakeupstream

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var anthropicTool = []map[string]any{{"name": "get_weather", "input_schema": map[string]any{"type": "object"}}}

func TestMessages(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name       string
		user       string
		extra      map[string]any
		wantText   string
		wantTool   string
		wantStop   string
		cacheRead  int
		cacheWrite int
		noUsage    bool
	}{
		{name: "echo", user: "Hello, Claude", wantText: "Echo: Hello, Claude", wantStop: "end_turn"},
		{name: "max_tokens", user: "one two three", extra: map[string]any{"max_tokens": 2}, wantText: "Echo:", wantStop: "max_tokens"},
		{name: "long", user: "[[fake:long=30]]", wantText: filler(30), wantStop: "end_turn"},
		{name: "tool_use by directive", user: "Paris [[fake:tool]]", extra: map[string]any{"tools": anthropicTool},
			wantTool: "get_weather", wantText: `{"input":"Paris"}`, wantStop: "tool_use"},
		{name: "tool_choice any", user: "Paris", extra: map[string]any{"tools": anthropicTool, "tool_choice": map[string]any{"type": "any"}},
			wantTool: "get_weather", wantText: `{"input":"Paris"}`, wantStop: "tool_use"},
		{name: "tool_choice none", user: "get_weather", extra: map[string]any{"tools": anthropicTool, "tool_choice": map[string]any{"type": "none"}},
			wantText: "Echo: get_weather", wantStop: "end_turn"},
		{name: "cache read and write", user: "hello [[fake:cached=4,cache_write=3]]", wantText: "Echo: hello",
			wantStop: "end_turn", cacheRead: 4, cacheWrite: 3},
		{name: "nousage", user: "hi [[fake:nousage]]", wantText: "Echo: hi", wantStop: "end_turn", noUsage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := anthropicBody(t, tc.user, tc.extra)
			res := postAnthropic(t, url, body)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			assert.True(t, strings.HasPrefix(res.header.Get("Request-Id"), "req_"))
			var got anMessage
			decodeStrict(t, res.body, &got)
			assert.True(t, strings.HasPrefix(got.ID, "msg_"))
			assert.Equal(t, "message", got.Type)
			assert.Equal(t, "assistant", got.Role)
			assert.Equal(t, "claude-sonnet-4-5", got.Model)
			require.NotNil(t, got.StopReason)
			assert.Equal(t, tc.wantStop, *got.StopReason)
			assert.Nil(t, got.StopSequence)
			require.Len(t, got.Content, 1)
			block := got.Content[0]
			completion := CountTokens(tc.wantText)
			if tc.wantTool != "" {
				assert.Equal(t, "tool_use", block.Type)
				assert.True(t, strings.HasPrefix(block.ID, "toolu_"))
				assert.Equal(t, tc.wantTool, block.Name)
				assert.Equal(t, map[string]any{"input": "Paris"}, block.Input)
				completion += CountTokens(tc.wantTool)
			} else {
				assert.Equal(t, "text", block.Type)
				require.NotNil(t, block.Text)
				assert.Equal(t, tc.wantText, *block.Text)
			}
			if tc.noUsage {
				assert.Nil(t, got.Usage)
				return
			}
			prompt := CountTokens("Be brief.") + CountTokens(tc.user) + framing(1)
			require.NotNil(t, got.Usage)
			assert.Equal(t, prompt-tc.cacheRead-tc.cacheWrite, got.Usage.InputTokens)
			assert.Equal(t, tc.cacheRead, got.Usage.CacheReadInputTokens)
			assert.Equal(t, tc.cacheWrite, got.Usage.CacheCreationInputTokens)
			assert.Equal(t, completion, got.Usage.OutputTokens)
		})
	}
}

func TestMessagesPromptTokens(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	body := `{"model":"claude-haiku-4-5","max_tokens":100,
		"system":[{"type":"text","text":"You are terse."}],
		"tools":[{"name":"look","input_schema":{"type":"object"}}],
		"messages":[
		 {"role":"user","content":[{"type":"text","text":"Look at this"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
		 {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"look","input":{"q":1}}]},
		 {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"a cat"}]}]}]}`
	res := postAnthropic(t, url, body)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var got anMessage
	decodeStrict(t, res.body, &got)
	want := CountTokens("You are terse.") + CountTokens("Look at this") + CountTokens("look") + CountTokens(`{"q":1}`) + CountTokens("a cat") + framing(3)
	assert.Equal(t, want, got.Usage.InputTokens)
	// A tool result last: the fake answers it rather than calling the tool again.
	assert.Equal(t, "text", got.Content[0].Type)
	assert.Equal(t, "Echo: a cat", *got.Content[0].Text)
	pred, err := Predict("/v1/messages", []byte(body))
	require.NoError(t, err)
	assert.Equal(t, want, pred.PromptTokens)
}

func TestMessagesInvalid(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name string
		body string
	}{
		{name: "no max_tokens", body: `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`},
		{name: "no model", body: `{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`},
		{name: "no messages", body: `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`},
		{name: "bad json", body: `{"model":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := postAnthropic(t, url, tc.body)
			require.Equal(t, http.StatusBadRequest, res.status)
			var e anError
			decodeStrict(t, res.body, &e)
			assert.Equal(t, "error", e.Type)
			assert.Equal(t, "invalid_request_error", e.Error.Type)
		})
	}
}

func anthropicStream(t *testing.T, url, body string) ([]string, []anEvent) {
	t.Helper()
	res := postAnthropic(t, url, body)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.NoError(t, res.err)
	assert.Equal(t, "text/event-stream; charset=utf-8", res.header.Get("Content-Type"))
	var names []string
	var events []anEvent
	for _, ev := range parseSSE(t, res.body) {
		var e anEvent
		decodeStrict(t, []byte(ev.data), &e)
		require.Equal(t, ev.event, e.Type, "event name matches data type")
		names = append(names, ev.event)
		events = append(events, e)
	}
	return names, events
}

func TestMessagesStream(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name     string
		user     string
		extra    map[string]any
		wantText string
		wantStop string
		tool     bool
		noUsage  bool
	}{
		{name: "text", user: "Hello there, Claude", wantText: "Echo: Hello there, Claude", wantStop: "end_turn"},
		{name: "max_tokens", user: "a b c d", extra: map[string]any{"max_tokens": 3}, wantText: "Echo: a", wantStop: "max_tokens"},
		{name: "tool", user: "Paris [[fake:tool]]", extra: map[string]any{"tools": anthropicTool},
			wantText: `{"input":"Paris"}`, wantStop: "tool_use", tool: true},
		{name: "nousage", user: "hi [[fake:nousage]]", wantText: "Echo: hi", wantStop: "end_turn", noUsage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			extra := map[string]any{"stream": true}
			for k, v := range tc.extra {
				extra[k] = v
			}
			names, events := anthropicStream(t, url, anthropicBody(t, tc.user, extra))
			deltas := CountTokens(tc.wantText)
			want := []string{"message_start", "content_block_start", "ping"}
			for range deltas {
				want = append(want, "content_block_delta")
			}
			want = append(want, "content_block_stop", "message_delta", "message_stop")
			require.Equal(t, want, names)

			start := events[0].Message
			require.NotNil(t, start)
			assert.Empty(t, start.Content)
			assert.Nil(t, start.StopReason)
			prompt := CountTokens("Be brief.") + CountTokens(tc.user) + framing(1)
			if tc.noUsage {
				assert.Nil(t, start.Usage)
			} else {
				require.NotNil(t, start.Usage)
				assert.Equal(t, prompt, start.Usage.InputTokens)
				assert.Equal(t, 1, start.Usage.OutputTokens)
			}
			block := events[1].ContentBlock
			require.NotNil(t, block)
			var text strings.Builder
			for _, e := range events[3 : 3+deltas] {
				require.NotNil(t, e.Delta)
				if tc.tool {
					assert.Equal(t, "input_json_delta", e.Delta.Type)
					text.WriteString(e.Delta.PartialJSON)
				} else {
					assert.Equal(t, "text_delta", e.Delta.Type)
					text.WriteString(e.Delta.Text)
				}
			}
			assert.Equal(t, tc.wantText, text.String())
			if tc.tool {
				assert.Equal(t, "tool_use", block.Type)
				assert.Equal(t, "get_weather", block.Name)
				assert.Empty(t, block.Input)
			} else {
				assert.Equal(t, "text", block.Type)
			}
			md := events[len(events)-2]
			require.NotNil(t, md.Delta)
			require.NotNil(t, md.Delta.StopReason)
			assert.Equal(t, tc.wantStop, *md.Delta.StopReason)
			if tc.noUsage {
				assert.Nil(t, md.Usage)
				return
			}
			require.NotNil(t, md.Usage)
			completion := deltas
			if tc.tool {
				completion += CountTokens("get_weather")
			}
			assert.Equal(t, completion, md.Usage.OutputTokens)
		})
	}
}
