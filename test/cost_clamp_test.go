package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// $1 per 1M prompt tokens and $10 per 1M output tokens: one and ten
// micro-dollars a token, so the clamp's arithmetic is easy to follow.
const costClampPricing = `
pricing:
  gpt-4o-mini: {input: 1, output: 10}
`

var costClampPrice = costPrice{input: 1_000_000, cached: 1_000_000, output: 10_000_000, reasoning: 10_000_000}

// appendPricing is a startLimProxy prep that prices models in providers.yaml.
func appendPricing(pricing string) func(dir string) {
	return func(dir string) {
		f, err := os.OpenFile(filepath.Join(dir, "providers.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString(pricing)
			_ = f.Close()
		}
		if err != nil {
			panic(err)
		}
	}
}

// A token with $0.001 left and no max_tokens in its request (the proxy's
// default cap, 4096 tokens, would cost $0.04) gets a 200 whose output cap
// the proxy lowered to what $0.001 pays for, then a refusal that gives both
// numbers in dollars.
func TestCostClampThenRefuse(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{RecordLimit: 16})
	p := startLimProxy(t, fake.URL(), "", `{"model_regex":"^gpt-4o","max_cost_usd":0.001}`, appendPricing(costClampPricing))
	c := limClient(2)

	r := limChat(c, p.p.URL, p.tok, "gpt-4o-mini", "tell a story [[fake:long=500]]", 0)
	require.NoError(t, r.Err)
	require.Equal(t, 200, r.Status, "body: %s", r.Body)
	u, finish := costUsageOf(t, r.Body)
	assert.Equal(t, "length", finish, "the clamped answer stops at its cap")
	assert.Less(t, u.CompletionTokens, int64(100), "$0.001 pays for fewer than 100 output tokens after the prompt")
	assert.Positive(t, u.CompletionTokens)
	sent, ok := fake.LastRequest()
	require.True(t, ok)
	var up struct {
		MaxTokens           int64 `json:"max_tokens"`
		MaxCompletionTokens int64 `json:"max_completion_tokens"`
	}
	require.NoError(t, sent.JSON(&up))
	up.MaxTokens = max(up.MaxTokens, up.MaxCompletionTokens)
	assert.Equal(t, u.CompletionTokens, up.MaxTokens, "the cap sent upstream is what the answer used")
	spent := costClampPrice.cost(u)
	assert.LessOrEqual(t, spent, int64(1000))
	t.Logf("clamped: cap %d, prompt %d tokens, cost %d of 1000 micro-dollars", up.MaxTokens, u.PromptTokens, spent)

	r = limChat(c, p.p.URL, p.tok, "gpt-4o-mini", "tell a story [[fake:long=500]]", 0)
	require.NoError(t, r.Err)
	require.Equal(t, 429, r.Status, "body: %s", r.Body)
	e := r.ErrorShape(t)
	assert.Equal(t, "budget_exceeded", e.Error.Code)
	assert.Equal(t, "insufficient_quota", e.Error.Type)
	left := 1000 - spent
	assert.Contains(t, e.Error.Message, "max_cost_usd has $0.000"+pad3(left)+" of $0.001000 left")
	assert.Contains(t, e.Error.Message, "for its prompt")
	assert.Contains(t, e.Error.Message, "for 1 output token")
	t.Logf("refusal: %s", e.Error.Message)

	row := costSettled(t, c, p.p.URL, p.tok, "")
	assert.Equal(t, costRow{Key: "", Limit: 1000, Used: spent}, row)
}

// pad3 prints 0..999 with three digits.
func pad3(n int64) string {
	b := []byte{'0' + byte(n/100%10), '0' + byte(n/10%10), '0' + byte(n%10)}
	return string(b)
}

// A cost window refuses like a token window once the dollars of the window
// are spent, after clamping the request that nearly fills it; a dollar
// budget fails closed on a model without a price, and a token without one
// is not affected.
func TestCostWindowAndUnpricedModels(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	p := startLimProxy(t, fake.URL(), "", `{"rate_limit":{"rules":[{"cost_usd":0.002,"window":"1h"}]}}`, appendPricing(costClampPricing))
	c := limClient(2)

	var spent int64
	var statuses []int
	var last limReply
	for range 4 {
		last = limChat(c, p.p.URL, p.tok, "gpt-4o-mini", "hello [[fake:long=100]]", 100)
		require.NoError(t, last.Err)
		statuses = append(statuses, last.Status)
		if last.Status == 200 {
			u, _ := costUsageOf(t, last.Body)
			spent += costClampPrice.cost(u)
		}
	}
	t.Logf("statuses %v, spent %d of the window's 2000 micro-dollars", statuses, spent)
	assert.Equal(t, []int{200, 200, 429, 429}, statuses)
	assert.LessOrEqual(t, spent, int64(2000))
	e := last.ErrorShape(t)
	assert.Equal(t, "rate_limit_exceeded", e.Error.Code)
	assert.Contains(t, e.Error.Message, "cost_usd/1h")
	assert.NotEmpty(t, last.Header.Get("Retry-After"), "a window refusal says when to retry")
	assert.Empty(t, last.Header.Get("X-Ratelimit-Limit-Tokens"), "a dollar refusal must not claim a token limit")

	// The token has dollar limits: a model with no price is refused.
	r := limChat(c, p.p.URL, p.tok, "house-model", "hello", 10)
	require.NoError(t, r.Err)
	assert.Equal(t, 403, r.Status, "body: %s", r.Body)
	assert.Equal(t, "model_not_priced", r.Code())

	// Another token, no dollar limits: the same model is served.
	tok2, _ := createToken(t, p.dir, p.env, `{"max_tokens":100000}`)
	r = limChat(c, p.p.URL, tok2, "house-model", "hello", 10)
	require.NoError(t, r.Err)
	assert.Equal(t, 200, r.Status, "body: %s", r.Body)
	var out struct {
		Usage json.RawMessage `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out))
	assert.NotEmpty(t, out.Usage)
}

// A fallback to another model is charged at that model's price: the
// dollars reserved for the first model are released when the fallback
// reserves its own, and the books hold what the answering model cost.
func TestCostFallbackChargedAtItsPrice(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	const pricing = `
pricing:
  gpt-4o: {input: 2, output: 20}
  gpt-4o-mini: {input: 1, output: 10}
`
	p := startLimProxy(t, fake.URL(), "",
		`{"model_regex":"^gpt-4o","max_cost_usd":1,"retry":{"fallbacks":["gpt-4o-mini"],"retry_on":[503]}}`, appendPricing(pricing))
	require.NoError(t, fake.Script(fakeupstream.Scripted{Model: "gpt-4o", Status: 503}))
	c := limClient(1)
	r := limChat(c, p.p.URL, p.tok, "gpt-4o", "hello [[fake:long=40]]", 50)
	require.NoError(t, r.Err)
	require.Equal(t, 200, r.Status, "body: %s", r.Body)
	u, _ := costUsageOf(t, r.Body)
	row := costSettled(t, c, p.p.URL, p.tok, "")
	assert.Equal(t, costClampPrice.cost(u), row.Used, "the fallback is charged at gpt-4o-mini's price")
	assert.Zero(t, row.Reserved)
	assert.Equal(t, costClampPrice.cost(u), costMetric(t, p.p.URL, "openai", "gpt-4o-mini"))
	assert.Zero(t, costMetric(t, p.p.URL, "openai", "gpt-4o"), "the refused attempt cost nothing")
}
