package test

import (
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
