package fakeupstream

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompletions(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name       string
		body       string
		wantText   string
		wantFinish string
		prompt     int
	}{
		{name: "string prompt", body: `{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi","max_tokens":50}`,
			wantText: "Echo: Say hi", wantFinish: "stop", prompt: 2},
		{name: "default cap is 16", body: `{"model":"gpt-3.5-turbo-instruct","prompt":"[[fake:long=40]]"}`,
			wantText: filler(16), wantFinish: "length", prompt: CountTokens("[[fake:long=40]]")},
		{name: "array prompt", body: `{"model":"m","prompt":["one","two three"],"max_tokens":50}`,
			wantText: "Echo: two three", wantFinish: "stop", prompt: 3},
		{name: "token prompt", body: `{"model":"m","prompt":[1,2,3,4],"max_tokens":50}`,
			wantText: "Echo:", wantFinish: "stop", prompt: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := postOpenAI(t, url, "/v1/completions", tc.body)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var got textCompletion
			decodeStrict(t, res.body, &got)
			assert.Equal(t, "text_completion", got.Object)
			assert.True(t, strings.HasPrefix(got.ID, "cmpl-"))
			require.Len(t, got.Choices, 1)
			assert.Equal(t, tc.wantText, got.Choices[0].Text)
			require.NotNil(t, got.Choices[0].FinishReason)
			assert.Equal(t, tc.wantFinish, *got.Choices[0].FinishReason)
			require.NotNil(t, got.Usage)
			assert.Equal(t, tc.prompt, got.Usage.PromptTokens)
			assert.Equal(t, CountTokens(tc.wantText), got.Usage.CompletionTokens)
		})
	}
}

func TestCompletionsStream(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	for _, include := range []bool{false, true} {
		body := mustJSON(t, map[string]any{"model": "m", "prompt": "Say hi now", "max_tokens": 50, "stream": true,
			"stream_options": map[string]any{"include_usage": include}})
		res := postOpenAI(t, url, "/v1/completions", body)
		require.Equal(t, http.StatusOK, res.status)
		events := parseSSE(t, res.body)
		require.Equal(t, "[DONE]", events[len(events)-1].data)
		var text strings.Builder
		var usage *oaUsage
		for _, ev := range events[:len(events)-1] {
			var c textCompletion
			decodeStrict(t, []byte(ev.data), &c)
			assert.Equal(t, "text_completion", c.Object)
			if len(c.Choices) == 0 {
				usage = c.Usage
				continue
			}
			text.WriteString(c.Choices[0].Text)
		}
		assert.Equal(t, "Echo: Say hi now", text.String())
		if include {
			require.NotNil(t, usage)
			assert.Equal(t, 3, usage.PromptTokens)
			assert.Equal(t, 5, usage.CompletionTokens)
		} else {
			assert.Nil(t, usage)
		}
	}
}
