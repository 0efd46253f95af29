package test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestW5HostedToolTextsChecked runs the real binary against the fake
// upstream's hosted tools ([[fake:hosted]]): a web search's query and
// source URL, a file search's query, result file name and text, an image
// generation's revised prompt (next to base64 image bytes), a shell call's
// command and output (streamed in deltas that cut the SSN apart) and a URL
// citation's title all carry the answer. An output mask rule leaves no
// digit of the SSN in any of them, streamed or whole; a block rule stops
// the stream before the first hosted text reaches the client.
func TestW5HostedToolTextsChecked(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	pxNoRace(t, px.p)
	masker, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"mask","scope":"output"}]}`)
	blocker, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"kw","type":"keyword","keywords":["zanzibar"],"action":"fail","scope":"output"}]}`)
	plain, _ := px.token(t, `{"max_tokens":1000000}`)
	urlBlocker, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"site","type":"keyword","keywords":["search.example"],"action":"fail","scope":"output"}]}`)

	req := func(prompt string, stream bool) string {
		return `{"model":"gpt-4o","input":"[[fake:hosted]] ` + prompt + `","stream":` + map[bool]string{true: "true", false: "false"}[stream] + `}`
	}
	for _, stream := range []bool{true, false} {
		// Control: without rules every hosted item carries the number.
		r := pxPost(t, px.url+"/v1/responses", plain, req("ssn 123-45-6789", stream))
		require.Equal(t, 200, r.status, "%s", r.body)
		for _, want := range []string{`"revised_prompt":"Echo: ssn 123-45-6789"`, `"queries":["Echo: ssn 123-45-6789"]`,
			`"title":"Echo: ssn 123-45-6789"`, `"commands":["echo Echo: ssn 123-45-6789"]`, `"stdout":"Echo: ssn 123-45-6789\n"`} {
			assert.Contains(t, string(r.body), want, "stream=%t", stream)
		}

		r = pxPost(t, px.url+"/v1/responses", masker, req("ssn 123-45-6789", stream))
		require.Equal(t, 200, r.status, "%s", r.body)
		body := string(r.body)
		assert.NotContains(t, withoutNumbers(body), "6789", "stream=%t: a part of the number reached the client", stream)
		for _, want := range []string{`"revised_prompt":"Echo: ssn [REDACTED`, `"queries":["Echo: ssn [REDACTED`,
			`"title":"Echo: ssn [REDACTED`, `"filename":"Echo: ssn [REDACTED`} {
			assert.Contains(t, body, want, "stream=%t", stream)
		}
		assert.Contains(t, body, `"result":"iVBORw0KGgpmYWtlIGltYWdlIGJ5dGVz"`, "stream=%t: image bytes pass as they are", stream)
		if stream {
			assert.Contains(t, body, "response.completed")
			assert.Contains(t, body, "response.image_generation_call.partial_image")
			var command, stdout strings.Builder
			for _, line := range strings.Split(body, "\n") {
				data, ok := strings.CutPrefix(line, "data: ")
				if !ok {
					continue
				}
				var ev struct {
					Type  string          `json:"type"`
					Delta json.RawMessage `json:"delta"`
				}
				require.NoError(t, json.Unmarshal([]byte(data), &ev), data)
				switch ev.Type {
				case "response.shell_call_command.delta":
					var d string
					require.NoError(t, json.Unmarshal(ev.Delta, &d))
					command.WriteString(d)
				case "response.shell_call_output_content.delta":
					var d struct{ Stdout string }
					require.NoError(t, json.Unmarshal(ev.Delta, &d))
					stdout.WriteString(d.Stdout)
				}
			}
			assert.Equal(t, "echo Echo: ssn [REDACTED:ssn]", command.String(), "the command deltas, masked")
			assert.Equal(t, "Echo: ssn [REDACTED:ssn]\n", stdout.String(), "the stdout deltas, masked")
		}

		// Each event in its own read (slow), so the hosted items would
		// reach the client before the message's text trips the rule.
		// Chat's web search citation: on a whole answer's message, or in
		// a stream's delta of its own after the text (masked in place,
		// whole: the title is not split over two events).
		chat := func(prompt string) string {
			return `{"model":"gpt-4o","messages":[{"role":"user","content":"[[fake:hosted]] ` + prompt + `"}],"stream":` +
				map[bool]string{true: "true", false: "false"}[stream] + `}`
		}
		r = pxPost(t, px.url+"/v1/chat/completions", masker, chat("ssn 123-45-6789"))
		require.Equal(t, 200, r.status, "%s", r.body)
		assert.NotContains(t, withoutNumbers(string(r.body)), "6789", "chat citation, stream=%t", stream)
		assert.Contains(t, string(r.body), `"title":"Echo: ssn [REDACTED:ssn]"`, "stream=%t", stream)
		assert.Equal(t, 1, strings.Count(string(r.body), `"type":"url_citation"`), "stream=%t", stream)
		r = pxPost(t, px.url+"/v1/chat/completions", plain, chat("ssn 123-45-6789"))
		assert.Contains(t, string(r.body), `"title":"Echo: ssn 123-45-6789"`, "control, stream=%t", stream)
		if stream {
			assert.Contains(t, string(r.body), `"delta":{"annotations":[{"type":"url_citation"`, "control")
		}
		// A rule only the citation's URL trips stops the answer before it.
		r = pxPost(t, px.url+"/v1/chat/completions", urlBlocker, chat("hi"))
		assert.NotContains(t, string(r.body), "search.example", "stream=%t", stream)
		if stream {
			require.Equal(t, 200, r.status, "%s", r.body)
			assert.Contains(t, string(r.body), `"role":"assistant"`, "the stream began before the citation")
			assert.Contains(t, string(r.body), "content_policy_violation")
			assert.NotContains(t, string(r.body), "[DONE]")
		} else {
			assert.Equal(t, 403, r.status, "%s", r.body)
		}

		r = pxPost(t, px.url+"/v1/responses", blocker, `{"model":"gpt-4o","input":"[[fake:hosted,slow=20ms]] go to zanzibar","stream":`+
			map[bool]string{true: "true", false: "false"}[stream]+`}`)
		assert.NotContains(t, string(r.body), "zanzibar", "stream=%t", stream)
		if stream && r.status == 200 {
			assert.Contains(t, string(r.body), "content_policy_violation")
			assert.NotContains(t, string(r.body), "response.completed")
		} else {
			assert.Equal(t, 403, r.status, "%s", r.body)
		}
	}
}

// numbersAndIDs are the JSON numbers and the fake upstream's counter ids of
// an answer: a timestamp (created_at 1796678973) or a counter may hold the
// secret's last four digits by chance, which is no leak.
var numbersAndIDs = regexp.MustCompile(`":\s*-?\d+(\.\d+)?([eE][+-]?\d+)?|fake\d+`)

// withoutNumbers is an answer with its numbers and ids blanked, for
// asserting that no text carries a part of a secret.
func withoutNumbers(body string) string { return numbersAndIDs.ReplaceAllString(body, `"#`) }
