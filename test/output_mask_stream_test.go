package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutputMaskedEveryStreamEvent: a token whose PII rule covers the
// output only lets the prompt's SSN through; the fake upstream echoes it.
// Whatever format the client speaks and whatever the provider does (native,
// translated by the hub, streamed or not, text or tool call), the answer
// the client reads must carry the mask, never the SSN. A regression test:
// on the native Responses stream only *.delta events were filtered, and
// response.output_text.done, response.content_part.done,
// response.output_item.done and response.completed repeat the whole
// unmasked text (the Codex CLI and the Agents SDK read the latter).
func TestOutputMaskedEveryStreamEvent(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"model_regex":"^(gpt-4o|claude)","max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn","email"],"action":"mask","scope":"output"}]}`)
	const text = "my ssn is " + ssn + " and mail " + email
	chat := func(model string, stream bool) string {
		s := "false"
		if stream {
			s = "true"
		}
		return `{"model":"` + model + `","stream":` + s + `,"messages":[{"role":"user","content":"` + text + `"}]}`
	}
	msgs := func(model string, stream bool) string {
		s := "false"
		if stream {
			s = "true"
		}
		return `{"model":"` + model + `","max_tokens":200,"stream":` + s + `,"messages":[{"role":"user","content":"` + text + `"}]}`
	}
	resp := func(model string, stream bool) string {
		s := "false"
		if stream {
			s = "true"
		}
		return `{"model":"` + model + `","stream":` + s + `,"input":"` + text + `"}`
	}
	// A tool call whose arguments echo the prompt: native Responses
	// streams repeat them in function_call_arguments.done,
	// output_item.done and response.completed.
	respTool := func(model string, stream bool) string {
		s := "false"
		if stream {
			s = "true"
		}
		return `{"model":"` + model + `","stream":` + s + `,"input":"[[fake:tool=lookup]] ` + text +
			`","tools":[{"type":"function","name":"lookup","parameters":{"type":"object","properties":{"input":{"type":"string"}}}}]}`
	}
	cases := []struct{ name, path, body string }{
		{"chat native", "/v1/chat/completions", chat("gpt-4o", false)},
		{"chat native stream", "/v1/chat/completions", chat("gpt-4o", true)},
		{"chat to claude", "/v1/chat/completions", chat("claude-sonnet-4-6", false)},
		{"chat to claude stream", "/v1/chat/completions", chat("claude-sonnet-4-6", true)},
		{"messages native", "/v1/messages", msgs("claude-sonnet-4-6", false)},
		{"messages native stream", "/v1/messages", msgs("claude-sonnet-4-6", true)},
		{"messages to gpt", "/v1/messages", msgs("gpt-4o", false)},
		{"messages to gpt stream", "/v1/messages", msgs("gpt-4o", true)},
		{"responses native", "/v1/responses", resp("gpt-4o", false)},
		{"responses native stream", "/v1/responses", resp("gpt-4o", true)},
		{"responses to claude", "/v1/responses", resp("claude-sonnet-4-6", false)},
		{"responses to claude stream", "/v1/responses", resp("claude-sonnet-4-6", true)},
		{"responses native tool call", "/v1/responses", respTool("gpt-4o", false)},
		{"responses native stream tool call", "/v1/responses", respTool("gpt-4o", true)},
		{"responses to claude stream tool call", "/v1/responses", respTool("claude-sonnet-4-6", true)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := pxDo(t, "POST", px.url+tc.path, tc.body, "Authorization", "Bearer "+tok, "anthropic-version", "2023-06-01")
			require.Equal(t, 200, r.status, "%s", r.body)
			out := string(r.body)
			assert.False(t, strings.Contains(out, ssn), "the client read the SSN: %s", lastBytes(out))
			assert.False(t, strings.Contains(out, email), "the client read the email: %s", lastBytes(out))
			assert.Contains(t, out, "REDACTED", "no mask in the answer")
			if strings.HasSuffix(tc.name, "tool call") {
				assert.Contains(t, out, `"function_call"`, "the answer is not a tool call: %s", lastBytes(out))
			}
		})
	}
}
