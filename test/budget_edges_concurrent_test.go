package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestBudgetEdgesConcurrentFiveAndAHalf: 40 calls at once against a budget
// worth 5.5 of them, on the memory backend and on a real redis-server. The
// budget is never overspent, and at least 5 calls succeed: the last ones
// are clamped to what is left rather than refused.
func TestBudgetEdgesConcurrentFiveAndAHalf(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"memory", "redis"} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s stream=%v", backend, stream), func(t *testing.T) {
				t.Parallel()
				extra := ""
				if backend == "redis" {
					extra = limSessionYAML(limStartRedis(t, false).addr(), "closed")
				}
				fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
				port := freePort(t)
				dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port, extra: extra})
				env := limitsEnv()

				// One call: a short prompt and a 300-token answer. Each
				// reserves its worst case (the prompt's byte bound, ~55,
				// plus the cap), so four run in full at once and the fifth
				// is clamped to what they leave.
				const maxTok = 300
				body := func(i int) string {
					return limChatJSON("gpt-4o-mini", fmt.Sprintf("%s [[fake:long=400]]", limWords(6, i)), maxTok, stream)
				}
				pred, err := fakeupstream.Predict("/v1/chat/completions", []byte(body(0)))
				require.NoError(t, err)
				cost := int64(pred.PromptTokens + pred.CompletionTokens)
				limit := cost*11/2 + 1
				tok, _ := createToken(t, dir, env, fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d}`, limit))
				p := startServe(t, dir, port, env)

				const n = 40
				c := limClient(n)
				replies := make([]limReply, n)
				limFanOut(n, func(i int) {
					replies[i] = limPost(c, p.URL+"/v1/chat/completions", tok, body(i))
				})
				var ok, clamped int
				var reported int64
				for i, r := range replies {
					require.NoError(t, r.Err, "request %d", i)
					switch r.Status {
					case 200:
						ok++
						u := r.Usage(t)
						reported += u.TotalTokens
						if u.CompletionTokens < maxTok {
							clamped++
						}
					case 429:
						assert.Equal(t, "budget_exceeded", r.Code(), "request %d: %s", i, r.Body)
					default:
						t.Errorf("request %d: status %d: %s", i, r.Status, r.Body)
					}
				}
				row := limSettled(t, c, p.URL, tok, "")
				t.Logf("call costs %d, budget %d: %d succeeded (%d clamped), used %d, reported %d",
					cost, limit, ok, clamped, row.Used, reported)
				assert.LessOrEqual(t, row.Used, limit, "budget overspent")
				assert.Equal(t, reported, row.Used)
				assert.Zero(t, row.Reserved)
				assert.GreaterOrEqual(t, ok, 5, "fewer than 5 calls fit a budget of 5.5")
				p.Stop(t)
			})
		}
	}
}

// TestBudgetEdgesPunctuationPrompt: a prompt of 100 "!" costs the fake's
// tokenizer (like a real one) about a token per character, twice what the
// estimate says. Sent one after another until the budget refuses, such
// prompts never take the budget past its limit: near the end the proxy
// reserves the prompt's guaranteed bound and clamps the output.
func TestBudgetEdgesPunctuationPrompt(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	const limit = 1000
	lp := startLimProxy(t, fake.URL(), "", fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d}`, limit))
	p, tok := lp.p, lp.tok
	c := limClient(2)
	prompt := strings.Repeat("!", 100) + " [[fake:long=300]]"
	var ok int
	for i := 0; ; i++ {
		require.Less(t, i, 50, "the budget never ran out")
		r := limChat(c, p.URL, tok, "gpt-4o-mini", prompt, 0)
		require.NoError(t, r.Err)
		if r.Status == 429 {
			assert.Equal(t, "budget_exceeded", r.Code())
			break
		}
		require.Equal(t, 200, r.Status, "%s", r.Body)
		ok++
	}
	row := limSettled(t, c, p.URL, tok, "")
	t.Logf("%d calls, used %d of %d", ok, row.Used, limit)
	assert.LessOrEqual(t, row.Used, int64(limit), "budget overspent")
	assert.GreaterOrEqual(t, ok, 2)
	p.Stop(t)
}
