package fakeupstream

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var responsesTool = []map[string]any{{"type": "function", "name": "get_weather", "parameters": map[string]any{"type": "object"}}}

func TestResponses(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name       string
		body       string
		wantText   string
		wantTool   string
		wantStatus string
		prompt     int
	}{
		{name: "string input", body: responsesBody(t, "Hello there", nil), wantText: "Echo: Hello there",
			wantStatus: "completed", prompt: CountTokens("Be brief.") + CountTokens("Hello there") + framing(1)},
		{name: "item input", body: `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"Hi you"}]}]}`,
			wantText: "Echo: Hi you", wantStatus: "completed", prompt: 2 + framing(1)},
		{name: "max_output_tokens", body: responsesBody(t, "one two three", map[string]any{"max_output_tokens": 3}),
			wantText: "Echo: one", wantStatus: "incomplete", prompt: CountTokens("Be brief.") + 3 + framing(1)},
		{name: "function call", body: responsesBody(t, "Paris [[fake:tool]]", map[string]any{"tools": responsesTool}),
			wantText: `{"input":"Paris"}`, wantTool: "get_weather", wantStatus: "completed",
			prompt: CountTokens("Be brief.") + CountTokens("Paris [[fake:tool]]") + framing(1)},
		{name: "after function output", body: `{"model":"gpt-4o","tools":[{"type":"function","name":"get_weather"}],"input":[
			{"role":"user","content":"get_weather Paris"},
			{"type":"function_call","call_id":"c1","name":"get_weather","arguments":"{}"},
			{"type":"function_call_output","call_id":"c1","output":"sunny"}]}`,
			wantText: "Echo: sunny", wantStatus: "completed",
			prompt: CountTokens("get_weather Paris") + CountTokens("get_weather") + CountTokens("{}") + CountTokens("sunny") + framing(3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := postOpenAI(t, url, "/v1/responses", tc.body)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var got responseObject
			decodeStrict(t, res.body, &got)
			assert.True(t, strings.HasPrefix(got.ID, "resp_"))
			assert.Equal(t, "response", got.Object)
			assert.Equal(t, tc.wantStatus, got.Status)
			if tc.wantStatus == "incomplete" {
				require.NotNil(t, got.IncompleteDetails)
				assert.Equal(t, "max_output_tokens", got.IncompleteDetails.Reason)
			}
			require.Len(t, got.Output, 1)
			item := got.Output[0]
			completion := CountTokens(tc.wantText)
			if tc.wantTool != "" {
				assert.Equal(t, "function_call", item.Type)
				assert.Equal(t, tc.wantTool, item.Name)
				assert.Equal(t, tc.wantText, item.Arguments)
				assert.True(t, strings.HasPrefix(item.CallID, "call_"))
				completion += CountTokens(tc.wantTool)
			} else {
				assert.Equal(t, "message", item.Type)
				assert.Equal(t, "assistant", item.Role)
				require.Len(t, item.Content, 1)
				assert.Equal(t, "output_text", item.Content[0].Type)
				assert.Equal(t, tc.wantText, item.Content[0].Text)
			}
			require.NotNil(t, got.Usage)
			assert.Equal(t, tc.prompt, got.Usage.InputTokens)
			assert.Equal(t, completion, got.Usage.OutputTokens)
			assert.Equal(t, tc.prompt+completion, got.Usage.TotalTokens)
		})
	}
}

func TestResponsesStream(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name     string
		user     string
		extra    map[string]any
		wantText string
		tool     bool
		final    string
	}{
		{name: "text", user: "Hello there, you", wantText: "Echo: Hello there, you", final: "response.completed"},
		{name: "capped", user: "a b c", extra: map[string]any{"max_output_tokens": 3}, wantText: "Echo: a", final: "response.incomplete"},
		{name: "function call", user: "Paris [[fake:tool]]", extra: map[string]any{"tools": responsesTool},
			wantText: `{"input":"Paris"}`, tool: true, final: "response.completed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			extra := map[string]any{"stream": true}
			for k, v := range tc.extra {
				extra[k] = v
			}
			res := postOpenAI(t, url, "/v1/responses", responsesBody(t, tc.user, extra))
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			require.NotContains(t, string(res.body), "[DONE]")
			deltas := CountTokens(tc.wantText)
			want := []string{"response.created", "response.in_progress", "response.output_item.added"}
			if tc.tool {
				for range deltas {
					want = append(want, "response.function_call_arguments.delta")
				}
				want = append(want, "response.function_call_arguments.done")
			} else {
				want = append(want, "response.content_part.added")
				for range deltas {
					want = append(want, "response.output_text.delta")
				}
				want = append(want, "response.output_text.done", "response.content_part.done")
			}
			want = append(want, "response.output_item.done", tc.final)

			var names []string
			var text strings.Builder
			var events []respEvent
			for i, ev := range parseSSE(t, res.body) {
				var e respEvent
				decodeStrict(t, []byte(ev.data), &e)
				require.Equal(t, ev.event, e.Type)
				assert.Equal(t, i, e.SequenceNumber)
				names = append(names, e.Type)
				events = append(events, e)
				if strings.HasSuffix(e.Type, ".delta") {
					assert.NotEmpty(t, e.ItemID)
					text.WriteString(e.Delta)
				}
			}
			require.Equal(t, want, names)
			assert.Equal(t, tc.wantText, text.String())
			created := events[0].Response
			require.NotNil(t, created)
			assert.Equal(t, "in_progress", created.Status)
			assert.Nil(t, created.Usage)
			assert.Empty(t, created.Output)
			final := events[len(events)-1].Response
			require.NotNil(t, final)
			require.NotNil(t, final.Usage)
			prompt := CountTokens("Be brief.") + CountTokens(tc.user) + framing(1)
			assert.Equal(t, prompt, final.Usage.InputTokens)
			completion := deltas
			if tc.tool {
				completion += CountTokens("get_weather")
			}
			assert.Equal(t, completion, final.Usage.OutputTokens)
			require.Len(t, final.Output, 1)
		})
	}
}

func TestResponsesNoUsage(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	res := postOpenAI(t, url, "/v1/responses", responsesBody(t, "hi [[fake:nousage]]", nil))
	require.Equal(t, http.StatusOK, res.status)
	var got responseObject
	decodeStrict(t, res.body, &got)
	assert.Nil(t, got.Usage)
}
