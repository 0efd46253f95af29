package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestBudgetAdversarialConcurrentPrompts: prompts a tokenizer splits into
// a token per character ("!!!!", "{}{}", punctuation runs; CJK and emoji
// mixed in) cost about twice what the proxy's estimate says. Sent all at
// once through three proxies sharing one real redis-server, far from the
// end of the budget, they still cannot take it past its limit: each
// request reserves its prompt's guaranteed bound (UTF-8 bytes plus
// framing), not the estimate. (Reserving the estimate, as the proxy did
// before, let 13 of them in at once and spent 5,055 of 4,000.)
func TestBudgetAdversarialConcurrentPrompts(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	extra := limSessionYAML(limStartRedis(t, false).addr(), "closed")
	const limit = 4000
	fl := startFleet(t, 3, fake.URL(), extra, fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d}`, limit))
	prompts := []string{
		strings.Repeat("!", 400),
		strings.Repeat("?!.,", 100),
		strings.Repeat("{}", 200),
		strings.Repeat("日!", 60) + strings.Repeat("!", 160),
		strings.Repeat("👍!", 40) + strings.Repeat("?", 200),
	}
	const n, maxTok = 60, 20
	bodies := make([]string, n)
	var worstActual int64
	for i := range bodies {
		bodies[i] = limChatJSON("gpt-4o-mini", prompts[i%len(prompts)]+" [[fake:long=100]]", maxTok, i%2 == 1)
		pred, err := fakeupstream.Predict("/v1/chat/completions", []byte(bodies[i]))
		require.NoError(t, err)
		worstActual = max(worstActual, int64(pred.PromptTokens+pred.CompletionTokens))
	}
	c := limClient(n)
	replies := make([]limReply, n)
	limFanOut(n, func(i int) {
		replies[i] = limPost(c, fl.procs[i%3].URL+"/v1/chat/completions", fl.tok, bodies[i])
	})
	var ok, refused int
	var reported int64
	for i, r := range replies {
		require.NoError(t, r.Err, "request %d", i)
		switch r.Status {
		case 200:
			ok++
			reported += r.Usage(t).TotalTokens
		case 429:
			refused++
			assert.Equal(t, "budget_exceeded", r.Code(), "request %d: %s", i, r.Body)
		default:
			t.Errorf("request %d: status %d: %s", i, r.Status, r.Body)
		}
	}
	row := limSettled(t, c, fl.procs[0].URL, fl.tok, "")
	t.Logf("%d calls of up to %d tokens each on 3 proxies: %d admitted, %d refused; used %d of %d (reported %d)",
		n, worstActual, ok, refused, row.Used, limit, reported)
	assert.LessOrEqual(t, row.Used, int64(limit), "budget overspent")
	assert.Equal(t, reported, row.Used, "books differ from the usage the fake reported")
	assert.Zero(t, row.Reserved)
	assert.Positive(t, refused, "the budget never refused: the test proves nothing")
	assert.GreaterOrEqual(t, ok, 5, "admission needlessly strict")
	for _, p := range fl.procs {
		p.Stop(t)
	}
}
