package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResponsesHosted: [[fake:hosted]] puts the reply in every hosted tool
// item, whole and streamed; the streamed deltas build the texts their
// .done events and the items repeat, and the image is base64 bytes.
func TestResponsesHosted(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	const reply = "Echo: code 123-45-6789"
	wantTypes := []string{"web_search_call", "file_search_call", "image_generation_call", "shell_call", "shell_call_output", "message"}

	res := postOpenAI(t, url, "/v1/responses", responsesBody(t, "[[fake:hosted]] code 123-45-6789", nil))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var whole struct {
		Output []map[string]any `json:"output"`
	}
	require.NoError(t, json.Unmarshal(res.body, &whole))
	require.Len(t, whole.Output, len(wantTypes))
	for i, typ := range wantTypes {
		assert.Equal(t, typ, whole.Output[i]["type"], "item %d", i)
	}
	assert.Equal(t, reply, whole.Output[0]["action"].(map[string]any)["query"])
	assert.Equal(t, reply, whole.Output[2]["revised_prompt"])
	assert.NotContains(t, whole.Output[2]["result"], "123", "the image is bytes")

	res = postOpenAI(t, url, "/v1/responses", responsesBody(t, "[[fake:hosted]] code 123-45-6789", map[string]any{"stream": true}))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var command, stdout strings.Builder
	seq := -1
	seen := map[string]bool{}
	for _, ev := range parseSSE(t, res.body) {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(ev.data), &e), ev.data)
		require.Equal(t, ev.event, e["type"])
		n := int(e["sequence_number"].(float64))
		require.Equal(t, seq+1, n)
		seq = n
		seen[ev.event] = true
		switch ev.event {
		case "response.shell_call_command.delta":
			command.WriteString(e["delta"].(string))
		case "response.shell_call_command.done":
			assert.Equal(t, "echo "+reply, e["command"])
		case "response.shell_call_output_content.delta":
			stdout.WriteString(e["delta"].(map[string]any)["stdout"].(string))
		case "response.output_text.annotation.added":
			assert.Equal(t, reply, e["annotation"].(map[string]any)["title"])
			assert.Equal(t, float64(len(wantTypes)-1), e["output_index"])
		case "response.completed":
			out := e["response"].(map[string]any)["output"].([]any)
			require.Len(t, out, len(wantTypes))
		}
	}
	assert.Equal(t, "echo "+reply, command.String())
	assert.Equal(t, reply+"\n", stdout.String())
	for _, name := range []string{"response.web_search_call.searching", "response.file_search_call.completed",
		"response.image_generation_call.partial_image", "response.shell_call_output_content.done", "response.completed"} {
		assert.True(t, seen[name], name)
	}
}
