package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// countBody is a count_tokens request: a system prompt and one user turn.
func countBody(model, text string, extra ...string) string {
	b := `{"model":"` + model + `","system":"Be brief.","messages":[{"role":"user","content":"` + text + `"}]`
	for _, e := range extra {
		b += "," + e
	}
	return b + "}"
}

// countTokens posts to a count_tokens path as the Anthropic SDKs do.
func countTokens(t *testing.T, url, tok, body string) pxResp {
	t.Helper()
	return pxDo(t, "POST", url, body, "x-api-key", tok, "anthropic-version", "2023-06-01")
}

func readCount(t *testing.T, r pxResp) int {
	t.Helper()
	require.Equal(t, 200, r.status, string(r.body))
	var got map[string]int
	require.NoError(t, json.Unmarshal(r.body, &got), string(r.body))
	require.Len(t, got, 1, "only input_tokens: %s", r.body)
	n, ok := got["input_tokens"]
	require.True(t, ok, string(r.body))
	return n
}

// TestCountTokens checks POST /v1/messages/count_tokens against the real
// binary: Claude models are counted by the provider (the fake counts
// exactly what a messages call reports as input_tokens), other models get
// the proxy's estimate, both say which in a header; the token's allow-list
// applies; generation-only fields are refused; counts are not charged.
func TestCountTokens(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"model_regex":"^(gpt-4o|claude-(sonnet|haiku))","max_tokens":100000}`)
	prompted, _ := px.token(t, `{"model_regex":"^claude","max_tokens":100000,"prompts":[{"role":"system","content":"Answer in French, always."}]}`)
	broke, _ := px.token(t, `{"model_regex":"^(gpt-4o|claude)","max_tokens":1}`)
	const text = "How many tokens does this sentence take?"

	t.Run("claude native equals the usage of a real call", func(t *testing.T) {
		for _, path := range []string{"/v1/messages/count_tokens", "/messages/count_tokens"} {
			r := countTokens(t, px.url+path, tok, countBody("claude-sonnet-4-6", text))
			n := readCount(t, r)
			assert.Equal(t, "native", r.header.Get("X-Tokenomics-Token-Count"), path)
			assert.Equal(t, fakeupstream.CountTokens("Be brief.")+fakeupstream.CountTokens(text)+fakeupstream.FramingPerMessage+fakeupstream.FramingReply, n, path)
			up, ok := px.fake.LastRequest()
			require.True(t, ok)
			assert.Equal(t, "/v1/messages/count_tokens", up.Path)
			assert.Equal(t, fakeAnthropicKey, up.Header.Get("x-api-key"), "the provider key, not the client's token")
			assert.NotContains(t, string(up.Body), "max_tokens", "count_tokens refuses max_tokens: the proxy must not add one")
		}
		created := pxDo(t, "POST", px.url+"/v1/messages",
			`{"model":"claude-sonnet-4-6","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":"`+text+`"}]}`,
			"x-api-key", tok, "anthropic-version", "2023-06-01")
		require.Equal(t, 200, created.status, string(created.body))
		var msg struct {
			Usage struct {
				InputTokens int `json:"input_tokens"`
			} `json:"usage"`
		}
		require.NoError(t, json.Unmarshal(created.body, &msg))
		n := readCount(t, countTokens(t, px.url+"/v1/messages/count_tokens", tok, countBody("claude-sonnet-4-6", text)))
		assert.Equal(t, msg.Usage.InputTokens, n)
	})
	t.Run("policy prompts are counted", func(t *testing.T) {
		plain := readCount(t, countTokens(t, px.url+"/v1/messages/count_tokens", tok, countBody("claude-sonnet-4-6", text)))
		with := readCount(t, countTokens(t, px.url+"/v1/messages/count_tokens", prompted, countBody("claude-sonnet-4-6", text)))
		assert.Equal(t, plain+fakeupstream.CountTokens("Answer in French, always."), with)
	})
	t.Run("gpt estimate", func(t *testing.T) {
		before := len(px.fake.Requests())
		r := countTokens(t, px.url+"/v1/messages/count_tokens", tok, countBody("gpt-4o", text))
		n := readCount(t, r)
		assert.Equal(t, "estimate", r.header.Get("X-Tokenomics-Token-Count"))
		words := fakeupstream.CountTokens("Be brief.") + fakeupstream.CountTokens(text)
		assert.GreaterOrEqual(t, n, words, "the estimate errs high")
		assert.LessOrEqual(t, n, 3*words+20, "but not absurdly")
		assert.Len(t, px.fake.Requests(), before, "an estimate reaches no provider")
	})
	t.Run("not charged to the budget", func(t *testing.T) {
		for _, model := range []string{"claude-sonnet-4-6", "gpt-4o"} {
			readCount(t, countTokens(t, px.url+"/v1/messages/count_tokens", broke, countBody(model, text)))
		}
		r := pxDo(t, "POST", px.url+"/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`,
			"x-api-key", broke, "anthropic-version", "2023-06-01")
		require.Equal(t, 429, r.status, "the same token cannot generate: %s", r.body)
	})
	t.Run("refusals", func(t *testing.T) {
		cases := []struct {
			name, body, tok, typ string
			status               int
		}{
			{name: "max_tokens", body: countBody("claude-sonnet-4-6", "x", `"max_tokens":5`), tok: tok, status: 400, typ: "invalid_request_error"},
			{name: "max_tokens gpt", body: countBody("gpt-4o", "x", `"max_tokens":5`), tok: tok, status: 400, typ: "invalid_request_error"},
			{name: "stream", body: countBody("claude-sonnet-4-6", "x", `"stream":true`), tok: tok, status: 400, typ: "invalid_request_error"},
			{name: "no model", body: `{"messages":[{"role":"user","content":"x"}]}`, tok: tok, status: 400, typ: "invalid_request_error"},
			{name: "no messages", body: `{"model":"claude-sonnet-4-6"}`, tok: tok, status: 400, typ: "invalid_request_error"},
			{name: "model not allowed", body: countBody("claude-opus-4-6", "x"), tok: tok, status: 403, typ: "permission_error"},
			{name: "no token", body: countBody("claude-sonnet-4-6", "x"), status: 401, typ: "authentication_error"},
			{name: "provider rate limit", body: countBody("claude-sonnet-4-6", "x [[fake:429]]"), tok: tok, status: 429, typ: "rate_limit_error"},
			{name: "provider rejects the key", body: countBody("claude-sonnet-4-6", "x [[fake:401]]"), tok: tok, status: 502, typ: "api_error"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := countTokens(t, px.url+"/v1/messages/count_tokens", tc.tok, tc.body)
				require.Equal(t, tc.status, r.status, string(r.body))
				typ, msg := sdkAnthropicError(t, r.body)
				assert.Equal(t, tc.typ, typ, string(r.body))
				assert.NotEmpty(t, msg)
				assert.NotContains(t, string(r.body), fakeAnthropicKey)
				if tc.status == 502 {
					assert.Contains(t, msg, "ANTHROPIC_API_KEY", "names the variable to fix")
				}
			})
		}
	})
	for _, up := range px.fake.Requests() {
		assert.False(t, strings.Contains(string(up.Body), `"max_tokens":5`), "a refused count reached the provider")
	}
}
