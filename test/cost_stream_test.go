package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// Streams settle their dollars from the usage chunk like answers do, and a
// provider that ignores the cap the dollar budget lowered ([[fake:nocap]])
// is cut by the proxy before it can spend more than the budget had.
func TestCostStreamSettlesAndCutsAtDollarBudget(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	const budget = 3000 // $0.003
	p := startLimProxy(t, fake.URL(), "", `{"model_regex":"^gpt-4o","max_cost_usd":0.003}`, appendPricing(costClampPricing))
	c := limClient(1)

	r := limPost(c, p.p.URL+"/v1/chat/completions", p.tok, limChatJSON("gpt-4o-mini", "hello [[fake:long=50]]", 60, true))
	require.NoError(t, r.Err)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	u := r.Usage(t)
	want := u.PromptTokens*1 + u.CompletionTokens*10
	row := costSettled(t, c, p.p.URL, p.tok, "")
	assert.Equal(t, want, row.Used, "a stream's dollars differ from its usage chunk at the price")

	r = limPost(c, p.p.URL+"/v1/chat/completions", p.tok, limChatJSON("gpt-4o-mini", "Tell me everything. [[fake:long=600,nocap]]", 0, true))
	require.NoError(t, r.Err)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	body := string(r.Body)
	assert.NotEmpty(t, r.Header.Get("X-Tokenomics-Output-Capped"), "the dollar budget lowered the cap")
	assert.Contains(t, body, `"finish_reason":"length"`)
	assert.Contains(t, body, "data: [DONE]")
	deltas := strings.Count(body, "lorem") + strings.Count(body, "ipsum") + strings.Count(body, "dolor")
	assert.Less(t, deltas, 3*600/16, "the stream was not cut")
	row = costSettled(t, c, p.p.URL, p.tok, "")
	t.Logf("cap header %s; spent %d of %d micro-dollars", r.Header.Get("X-Tokenomics-Output-Capped"), row.Used, budget)
	assert.LessOrEqual(t, row.Used, int64(budget), "the dollar budget was overspent")
	assert.Greater(t, row.Used, want)
	assert.Zero(t, row.Reserved)
}

// Anthropic's cache reads and writes are priced apart, at the shipped
// default price of claude-haiku-4-5 ($1 input, $0.10 cache reads, $1.25
// cache writes, $5 output per 1M tokens), from the usage the API reports.
func TestCostAnthropicCacheAtDefaultPrice(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	p := startLimProxy(t, fake.URL(), "", `{"model_regex":"^claude-","max_cost_usd":1}`)
	c := limClient(1)
	body := `{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"` +
		limWords(40, 3) + ` [[fake:long=30,cached=12,cache_write=9]]"}]}`
	r := limPost(c, p.p.URL+"/v1/messages", p.tok, body)
	require.NoError(t, r.Err)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	var out struct {
		Usage struct {
			Input      int64 `json:"input_tokens"`
			CacheWrite int64 `json:"cache_creation_input_tokens"`
			CacheRead  int64 `json:"cache_read_input_tokens"`
			Output     int64 `json:"output_tokens"`
		} `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out), "%s", r.Body)
	u := out.Usage
	require.Equal(t, int64(12), u.CacheRead)
	require.Equal(t, int64(9), u.CacheWrite)
	sum := u.Input*1_000_000 + u.CacheRead*100_000 + u.CacheWrite*1_250_000 + u.Output*5_000_000
	want := (sum + 999_999) / 1_000_000
	row := costSettled(t, c, p.p.URL, p.tok, "")
	assert.Equal(t, want, row.Used)
}
