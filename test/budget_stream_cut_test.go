package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestBudgetStreamCutAtBudget: a provider that ignores the output cap the
// proxy lowered to the budget ([[fake:nocap]]) streams far more than the
// budget has left. The proxy cuts each stream itself once it has provably
// gone past the reservation, charges no more than the budget had, and ends
// the client's stream as the format ends a truncated answer, cleanly.
func TestBudgetStreamCutAtBudget(t *testing.T) {
	t.Parallel()
	const prompt = "Tell me everything. [[fake:long=600,nocap]]"
	cases := []struct {
		name, path, body string
		truncation, end  string // markers of the truncated, clean ending
	}{
		{name: "chat", path: "/v1/chat/completions", body: limChatJSON("gpt-4o-mini", prompt, 0, true),
			truncation: `"finish_reason":"length"`, end: "data: [DONE]"},
		{name: "chat to claude", path: "/v1/chat/completions", body: limChatJSON("claude-haiku-4-5", prompt, 0, true),
			truncation: `"finish_reason":"length"`, end: "data: [DONE]"},
		{name: "messages", path: "/v1/messages",
			body:       `{"model":"claude-haiku-4-5","max_tokens":4000,"stream":true,"messages":[{"role":"user","content":"` + prompt + `"}]}`,
			truncation: `"stop_reason":"max_tokens"`, end: "event: message_stop"},
		{name: "responses", path: "/v1/responses",
			body:       `{"model":"gpt-4o","stream":true,"input":"` + prompt + `"}`,
			truncation: `"reason":"max_output_tokens"`, end: "event: response.incomplete"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := startFake(t, fakeupstream.Options{})
			const limit = 300
			lp := startLimProxy(t, fake.URL(), "", fmt.Sprintf(`{"model_regex":"^(gpt-4o|claude)","max_tokens":%d}`, limit))
			c := limClient(1)
			r := limPost(c, lp.p.URL+tc.path, lp.tok, tc.body)
			require.NoError(t, r.Err)
			require.Equal(t, 200, r.Status, "%s", r.Body)
			body := string(r.Body)
			assert.NotEmpty(t, r.Header.Get("X-Tokenomics-Output-Capped"), "the proxy lowered the cap and must say so")
			assert.True(t, strings.Contains(body, tc.truncation), "no truncation finish:\n%s", lastBytes(body))
			assert.True(t, strings.HasSuffix(strings.TrimSpace(body), tc.end) ||
				strings.Contains(body[max(0, len(body)-600):], tc.end), "no clean end:\n%s", lastBytes(body))
			assert.NotContains(t, body, `data: {"error"`, "a budget cut is not an error")
			assert.NotContains(t, body, "event: error", "a budget cut is not an error")
			// The fake streams one delta per word: far fewer reached the client.
			deltas := strings.Count(body, "lorem") + strings.Count(body, "ipsum") + strings.Count(body, "dolor")
			assert.Less(t, deltas, 3*600/16, "the stream was not cut")
			row := limSettled(t, c, lp.p.URL, lp.tok, "")
			t.Logf("%s: cap header %s, used %d of %d", tc.name, r.Header.Get("X-Tokenomics-Output-Capped"), row.Used, limit)
			assert.LessOrEqual(t, row.Used, int64(limit), "budget overspent")
			assert.Positive(t, row.Used)
			assert.Zero(t, row.Reserved)
			lp.p.Stop(t)
		})
	}
}

func lastBytes(s string) string { return s[max(0, len(s)-800):] }
