package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// attackCostPricing prices one GPT and one Claude model alike: $100 per
// million output tokens, so $0.01 buys 100 of them.
const attackCostPricing = `
pricing:
  gpt-4o-mini: {input: 25, output: 100}
  claude-haiku-4-5: {input: 25, output: 100}
`

// TestAttackW3_CostStreamCut: a token with a dollar budget only (no token
// budget) streams from a provider that ignores the lowered output cap
// ([[fake:nocap]]), natively and through the translation hub. The stream
// must be cut at the dollar reservation and the settle must stay within
// max_cost_usd. (Found overspent 6x on 2a836c9; holds since b6583b3 for
// native chat; kept as a guard for every format.)
func TestAttackW3_CostStreamCut(t *testing.T) {
	t.Parallel()
	const prompt = "Tell me everything. [[fake:long=600,nocap]]"
	cases := []struct{ name, path, body, truncation string }{
		{name: "chat", path: "/v1/chat/completions", body: limChatJSON("gpt-4o-mini", prompt, 0, true), truncation: `"finish_reason":"length"`},
		{name: "chat to claude", path: "/v1/chat/completions", body: limChatJSON("claude-haiku-4-5", prompt, 0, true), truncation: `"finish_reason":"length"`},
		{name: "messages", path: "/v1/messages",
			body:       `{"model":"claude-haiku-4-5","max_tokens":4000,"stream":true,"messages":[{"role":"user","content":"` + prompt + `"}]}`,
			truncation: `"stop_reason":"max_tokens"`},
		{name: "messages to gpt", path: "/v1/messages",
			body:       `{"model":"gpt-4o-mini","max_tokens":4000,"stream":true,"messages":[{"role":"user","content":"` + prompt + `"}]}`,
			truncation: `"stop_reason":"max_tokens"`},
		{name: "responses", path: "/v1/responses", body: `{"model":"gpt-4o-mini","stream":true,"input":"` + prompt + `"}`,
			truncation: `"reason":"max_output_tokens"`},
		{name: "responses to claude", path: "/v1/responses", body: `{"model":"claude-haiku-4-5","stream":true,"input":"` + prompt + `"}`,
			truncation: `"reason":"max_output_tokens"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := startFake(t, fakeupstream.Options{})
			const budget = 10_000 // $0.01
			fl := startCostFleet(t, 1, fake.URL(), "", attackCostPricing, `{"model_regex":"^(gpt-4o|claude)","max_cost_usd":0.01}`)
			c := limClient(1)
			r := limPost(c, fl.procs[0].URL+tc.path, fl.tok, tc.body)
			require.NoError(t, r.Err)
			require.Equal(t, 200, r.Status, "%s", r.Body)
			body := string(r.Body)
			row := costSettled(t, c, fl.procs[0].URL, fl.tok, "")
			t.Logf("%s: cap header %q, spent %d of %d micro-dollars", tc.name, r.Header.Get("X-Tokenomics-Output-Capped"), row.Used, budget)
			assert.True(t, strings.Contains(body, tc.truncation), "the stream was not cut at the dollar budget:\n%s", lastBytes(body))
			assert.LessOrEqual(t, row.Used, int64(budget), "one stream overspent the dollar budget")
			assert.Less(t, strings.Count(body, "lorem")+strings.Count(body, "ipsum")+strings.Count(body, "dolor"), 600/4,
				"the client received far more than the budget pays for")
		})
	}
}
