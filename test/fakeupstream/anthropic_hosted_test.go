package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMessagesHosted: [[fake:hosted]] on /v1/messages gives a web search's
// answer: the server tool's query, a result titled with the reply and the
// text's two citations carry the reply, whole and streamed; the stream's
// query fragments build the whole query and its citations_delta events
// carry the same citations as the whole answer's text block.
func TestMessagesHosted(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	const reply = "Echo: code 123-45-6789"

	res := postAnthropic(t, url, anthropicBody(t, "[[fake:hosted]] code 123-45-6789", nil))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var whole struct {
		Content []map[string]any `json:"content"`
	}
	require.NoError(t, json.Unmarshal(res.body, &whole))
	require.Len(t, whole.Content, 3)
	for i, typ := range []string{"server_tool_use", "web_search_tool_result", "text"} {
		assert.Equal(t, typ, whole.Content[i]["type"], "block %d", i)
	}
	assert.Equal(t, whole.Content[0]["id"], whole.Content[1]["tool_use_id"])
	assert.Equal(t, reply, whole.Content[0]["input"].(map[string]any)["query"])
	result := whole.Content[1]["content"].([]any)[0].(map[string]any)
	assert.Equal(t, reply, result["title"])
	assert.Equal(t, hostedSourceURL(reply), result["url"])
	assert.NotContains(t, result["encrypted_content"], "123")
	assert.Equal(t, reply, whole.Content[2]["text"])
	cites := whole.Content[2]["citations"].([]any)
	require.Len(t, cites, 2)
	web, doc := cites[0].(map[string]any), cites[1].(map[string]any)
	assert.Equal(t, "web_search_result_location", web["type"])
	assert.Equal(t, reply, web["cited_text"])
	assert.Equal(t, reply, web["title"])
	assert.Equal(t, "char_location", doc["type"])
	assert.Equal(t, reply, doc["document_title"])

	res = postAnthropic(t, url, anthropicBody(t, "[[fake:hosted]] code 123-45-6789", map[string]any{"stream": true}))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var query, text strings.Builder
	var streamed []any
	starts := map[float64]string{}
	for _, ev := range parseSSE(t, res.body) {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(ev.data), &e), ev.data)
		require.Equal(t, ev.event, e["type"])
		switch ev.event {
		case "content_block_start":
			blk := e["content_block"].(map[string]any)
			starts[e["index"].(float64)] = blk["type"].(string)
			if blk["type"] == "web_search_tool_result" {
				assert.Equal(t, reply, blk["content"].([]any)[0].(map[string]any)["title"])
			}
		case "content_block_delta":
			d := e["delta"].(map[string]any)
			switch d["type"] {
			case "input_json_delta":
				assert.Equal(t, float64(0), e["index"])
				query.WriteString(d["partial_json"].(string))
			case "citations_delta":
				assert.Equal(t, float64(2), e["index"])
				assert.Empty(t, text.String(), "citations come before the text")
				streamed = append(streamed, d["citation"])
			case "text_delta":
				assert.Equal(t, float64(2), e["index"])
				text.WriteString(d["text"].(string))
			}
		}
	}
	assert.Equal(t, map[float64]string{0: "server_tool_use", 1: "web_search_tool_result", 2: "text"}, starts)
	var q map[string]string
	require.NoError(t, json.Unmarshal([]byte(query.String()), &q))
	assert.Equal(t, reply, q["query"])
	assert.Equal(t, reply, text.String())
	assert.Equal(t, cites, streamed)

	// A tool call is unchanged: one tool_use block at index 0.
	res = postAnthropic(t, url, anthropicBody(t, "[[fake:hosted,tool]] hi", map[string]any{"stream": true,
		"tools": []any{map[string]any{"name": "f", "input_schema": map[string]any{"type": "object"}}}}))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.NotContains(t, string(res.body), "citations_delta")
	assert.NotContains(t, string(res.body), "web_search")
}
