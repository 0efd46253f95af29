package test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestBudgetOutputCapOnlyWhenRequired: the proxy adds or lowers the
// upstream's output cap only when a budget requires it, and then says so
// in x-tokenomics-output-capped; otherwise the client's request reaches the
// provider as sent (no injected max_completion_tokens).
func TestBudgetOutputCapOnlyWhenRequired(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path, body string
		budget           int
		// What the provider receives: the cap field and its value (0:
		// absent); capped says the proxy imposed it (header set).
		field  string
		want   int64
		capped bool
	}{
		{name: "no cap, roomy budget: sent as is", path: "/v1/chat/completions", budget: 1_000_000,
			body: limChatJSON("gpt-4o-mini", "hello", 0, false), field: "max_completion_tokens"},
		{name: "client cap, roomy budget: sent as is", path: "/v1/chat/completions", budget: 1_000_000,
			body: limChatJSON("gpt-4o-mini", "hello", 100, false), field: "max_tokens", want: 100},
		{name: "responses, no cap, roomy budget", path: "/v1/responses", budget: 1_000_000,
			body: `{"model":"gpt-4o","input":"hello"}`, field: "max_output_tokens"},
		{name: "no cap, budget below the model's maximum: cap added", path: "/v1/chat/completions", budget: 5000,
			body: limChatJSON("gpt-4o-mini", "hello [[fake:long=6000]]", 0, false), field: "max_completion_tokens", capped: true},
		{name: "client cap above the budget: lowered", path: "/v1/chat/completions", budget: 5000,
			body: limChatJSON("gpt-4o-mini", "hello [[fake:long=6000]]", 8000, false), field: "max_tokens", capped: true},
		{name: "Anthropic SDK's 128000 on a fresh 100k budget: clamped, not refused", path: "/v1/messages", budget: 100_000,
			body: `{"model":"claude-sonnet-4-6","max_tokens":128000,"messages":[{"role":"user","content":"hello"}]}`, field: "max_tokens", capped: true},
		{name: "to Claude without a cap: the required max_tokens, not a clamp", path: "/v1/chat/completions", budget: 1_000_000,
			body: limChatJSON("claude-haiku-4-5", "hello", 0, false), field: "max_tokens", want: 64000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := startFake(t, fakeupstream.Options{})
			lp := startLimProxy(t, fake.URL(), "", fmt.Sprintf(`{"model_regex":"^(gpt-4o|claude)","max_tokens":%d}`, tc.budget))
			c := limClient(1)
			r := limPost(c, lp.p.URL+tc.path, lp.tok, tc.body)
			require.NoError(t, r.Err)
			require.Equal(t, 200, r.Status, "%s", r.Body)
			sent, ok := fake.LastRequest()
			require.True(t, ok)
			var up map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(sent.Body, &up))
			header := r.Header.Get("X-Tokenomics-Output-Capped")
			for _, f := range []string{"max_tokens", "max_completion_tokens", "max_output_tokens"} {
				if f != tc.field {
					assert.NotContains(t, up, f, "the proxy added %s", f)
				}
			}
			if !tc.capped {
				assert.Empty(t, header, "no budget required a cap")
				if tc.want == 0 {
					assert.NotContains(t, up, tc.field, "the proxy injected a cap: %s", sent.Body)
					return
				}
				assert.Equal(t, strconv.FormatInt(tc.want, 10), string(up[tc.field]))
				return
			}
			require.NotEmpty(t, header, "the proxy imposed a cap and must say so")
			assert.Equal(t, header, string(up[tc.field]), "the header names the cap sent upstream")
			n, err := strconv.ParseInt(header, 10, 64)
			require.NoError(t, err)
			assert.Less(t, n, int64(tc.budget))
			if tc.path == "/v1/chat/completions" {
				var out struct {
					Choices []struct {
						FinishReason string `json:"finish_reason"`
					} `json:"choices"`
				}
				require.NoError(t, json.Unmarshal(r.Body, &out))
				require.NotEmpty(t, out.Choices)
				assert.Equal(t, "length", out.Choices[0].FinishReason, "the answer hit the imposed cap")
			}
			t.Logf("%s: cap %d sent for a budget of %d", tc.name, n, tc.budget)
		})
	}
}
