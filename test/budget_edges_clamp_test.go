package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestBudgetEdgesClampThenRefuse: a token with 506 tokens left asks for a
// long answer with the default output cap (4096). The proxy lowers the cap
// sent upstream to what the budget has left after the prompt's guaranteed
// bound, so the call succeeds cut at the cap ("length"); the budget is
// never overspent, and the next call, whose prompt alone cannot fit, is
// refused with both numbers in the message.
func TestBudgetEdgesClampThenRefuse(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			t.Parallel()
			fake := startFake(t, fakeupstream.Options{})
			port := freePort(t)
			dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
			env := limitsEnv()
			const limit = 506
			tok, _ := createToken(t, dir, env, fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d}`, limit))
			p := startServe(t, dir, port, env)
			c := limClient(2)

			prompt := "Tell me a long story. [[fake:long=3000]]"
			r := limPost(c, p.URL+"/v1/chat/completions", tok, limChatJSON("gpt-4o-mini", prompt, 0, stream))
			require.NoError(t, r.Err)
			require.Equal(t, 200, r.Status, "a budget with room must not refuse: %s", r.Body)
			u := r.Usage(t)
			assert.Positive(t, u.CompletionTokens)
			assert.LessOrEqual(t, u.TotalTokens, int64(limit), "the answer costs more than the budget had left")
			if !stream {
				var out struct {
					Choices []struct {
						FinishReason string `json:"finish_reason"`
					} `json:"choices"`
				}
				require.NoError(t, json.Unmarshal(r.Body, &out))
				require.Len(t, out.Choices, 1)
				assert.Equal(t, "length", out.Choices[0].FinishReason, "the clamped cap should have cut the answer")
			}
			sent, ok := fake.LastRequest()
			require.True(t, ok)
			var body struct {
				MaxCompletionTokens int64 `json:"max_completion_tokens"`
			}
			require.NoError(t, json.Unmarshal(sent.Body, &body))
			assert.Positive(t, body.MaxCompletionTokens)
			assert.Less(t, body.MaxCompletionTokens, int64(limit), "the cap sent upstream was not clamped")
			t.Logf("clamped cap %d; usage %d prompt + %d output", body.MaxCompletionTokens, u.PromptTokens, u.CompletionTokens)

			row := limSettled(t, c, p.URL, tok, "")
			assert.Equal(t, u.TotalTokens, row.Used, "charged differs from the usage reported")
			assert.Zero(t, row.Reserved)
			left := limit - row.Used

			// The same prompt again: its bound does not fit what is left.
			r = limPost(c, p.URL+"/v1/chat/completions", tok, limChatJSON("gpt-4o-mini", prompt, 0, stream))
			require.NoError(t, r.Err)
			require.Equal(t, 429, r.Status, "%s", r.Body)
			e := r.ErrorShape(t)
			assert.Equal(t, "budget_exceeded", e.Error.Code)
			msg := e.Error.Message
			assert.Contains(t, msg, fmt.Sprintf("has %d of %d tokens left", left, limit), msg)
			assert.Contains(t, msg, "prompt alone may need up to", msg)
			t.Logf("refusal: %s", msg)
			row = limSettled(t, c, p.URL, tok, "")
			assert.LessOrEqual(t, row.Used, int64(limit))
			p.Stop(t)
		})
	}
}

// TestBudgetEdgesAbsurdCaps: caps that would wrap the reservation and n
// attacks are refused with 400 before anything is reserved or sent.
func TestBudgetEdgesAbsurdCaps(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	lp := startLimProxy(t, fake.URL(), "", `{"model_regex":"^gpt-4o","max_tokens":1000}`)
	p, tok := lp.p, lp.tok
	c := limClient(2)
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	cases := []struct {
		name, body string
		status     int
	}{
		{"max_completion_tokens near int64 max", `{"model":"gpt-4o-mini",` + msgs + `,"max_completion_tokens":9223372036854775784}`, 400},
		{"max_tokens int64 max", `{"model":"gpt-4o-mini",` + msgs + `,"max_tokens":9223372036854775807}`, 400},
		{"negative max_tokens", `{"model":"gpt-4o-mini",` + msgs + `,"max_tokens":-5}`, 400},
		{"n huge", `{"model":"gpt-4o-mini",` + msgs + `,"n":1000000,"max_tokens":10}`, 400},
		{"n times cap, one token per choice does not fit", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("u", 900) + `"}],"n":128,"max_tokens":100000}`, 429},
		{"responses max_output_tokens", `{"model":"gpt-4o-mini","input":"hi","max_output_tokens":9223372036854775000}`, 400},
	}
	for _, tc := range cases {
		path := "/v1/chat/completions"
		if strings.Contains(tc.body, `"input"`) {
			path = "/v1/responses"
		}
		r := limPost(c, p.URL+path, tok, tc.body)
		require.NoError(t, r.Err, tc.name)
		assert.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body)
		r.ErrorShape(t)
	}
	assert.Empty(t, fake.Requests(), "an absurd request reached the provider")
	row := limSettled(t, c, p.URL, tok, "")
	assert.Zero(t, row.Used)
	assert.Zero(t, row.Reserved)
	p.Stop(t)
}

// TestBudgetEdgesChoicesReserved: n choices reserve n times the cap, and a
// clamp divides what is left among them.
func TestBudgetEdgesChoicesReserved(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	lp := startLimProxy(t, fake.URL(), "", `{"model_regex":"^gpt-4o","max_tokens":1000}`)
	p, tok := lp.p, lp.tok
	c := limClient(2)
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi [[fake:long=500]]"}],"n":8,"max_tokens":400}`
	r := limPost(c, p.URL+"/v1/chat/completions", tok, body)
	require.NoError(t, r.Err)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	sent, ok := fake.LastRequest()
	require.True(t, ok)
	var got struct {
		MaxTokens int64 `json:"max_tokens"`
		N         int64 `json:"n"`
	}
	require.NoError(t, json.Unmarshal(sent.Body, &got))
	assert.Equal(t, int64(8), got.N)
	// The prompt's guaranteed bound: its literal's bytes, one message's
	// framing (4) and the reply priming (3).
	bound := int64(len(`"hi [[fake:long=500]]"`)) + 4 + 3
	assert.Equal(t, (1000-bound)/8, got.MaxTokens, "8 choices share what is left after the prompt bound")
	row := limSettled(t, c, p.URL, tok, "")
	assert.Zero(t, row.Reserved)
	assert.LessOrEqual(t, row.Used, int64(1000))
	p.Stop(t)
}
