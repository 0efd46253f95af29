package fakeupstream

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestForcedToolArgs: a tool forced by name answers with input valid
// against its schema, in every format; one only mentioned keeps {"input"}.
func TestForcedToolArgs(t *testing.T) {
	t.Parallel()
	schema := map[string]any{"type": "object", "properties": map[string]any{"answer": map[string]any{"type": "string"}, "n": map[string]any{"type": "integer"}},
		"required": []string{"answer", "n"}}
	cases := []struct {
		name, path string
		body       map[string]any
	}{
		{name: "chat named", path: "/v1/chat/completions", body: map[string]any{"model": "gpt-4o",
			"messages":    []map[string]any{{"role": "user", "content": "hi"}},
			"tools":       []map[string]any{{"type": "function", "function": map[string]any{"name": "extract", "parameters": schema}}},
			"tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "extract"}}}},
		{name: "messages named", path: "/v1/messages", body: map[string]any{"model": "claude-sonnet-4-6", "max_tokens": 100,
			"messages":    []map[string]any{{"role": "user", "content": "hi"}},
			"tools":       []map[string]any{{"name": "extract", "input_schema": schema}},
			"tool_choice": map[string]any{"type": "tool", "name": "extract"}}},
		{name: "responses named", path: "/v1/responses", body: map[string]any{"model": "gpt-4o", "input": "hi",
			"tools":       []map[string]any{{"type": "function", "name": "extract", "parameters": schema}},
			"tool_choice": map[string]any{"type": "function", "name": "extract"}}},
		{name: "messages any, one tool", path: "/v1/messages", body: map[string]any{"model": "claude-sonnet-4-6", "max_tokens": 100,
			"messages":    []map[string]any{{"role": "user", "content": "hi"}},
			"tools":       []map[string]any{{"name": "extract", "input_schema": schema}},
			"tool_choice": map[string]any{"type": "any"}}},
		{name: "chat required, one tool", path: "/v1/chat/completions", body: map[string]any{"model": "gpt-4o",
			"messages":    []map[string]any{{"role": "user", "content": "hi"}},
			"tools":       []map[string]any{{"type": "function", "function": map[string]any{"name": "extract", "parameters": schema}}},
			"tool_choice": "required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tc.body)
			require.NoError(t, err)
			p, err := Predict(tc.path, b)
			require.NoError(t, err)
			assert.Equal(t, "extract", p.ToolName)
			var args map[string]any
			require.NoError(t, json.Unmarshal([]byte(p.Text), &args), p.Text)
			assert.Equal(t, "hi", args["answer"], "strings take the message, as {\"input\"} does")
			assert.Contains(t, args, "n")
		})
	}
	t.Run("mentioned, not forced", func(t *testing.T) {
		t.Parallel()
		b, _ := json.Marshal(map[string]any{"model": "gpt-4o", "messages": []map[string]any{{"role": "user", "content": "call extract"}},
			"tools": []map[string]any{{"type": "function", "function": map[string]any{"name": "extract", "parameters": schema}}}})
		p, err := Predict("/v1/chat/completions", b)
		require.NoError(t, err)
		assert.JSONEq(t, `{"input":"call extract"}`, p.Text)
	})
}
