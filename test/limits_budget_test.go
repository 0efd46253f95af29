package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestLimitsBudgetConcurrent fires 200 requests at once against a 2000-token
// budget through the real binary. Every reservation (prompt estimate plus
// max_tokens) is an upper bound of what the fake upstream charges, so the
// documented overspend bound (core/limits/doc.go: the estimation error) is
// zero: the budget must hold exactly, no reservation may be left behind, and
// the usage reported to the clients must be exactly what was charged.
func TestLimitsBudgetConcurrent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		backend string // memory or redis
		stream  bool   // every other request streams
	}{
		{name: "memory", backend: "memory"},
		{name: "memory streams", backend: "memory", stream: true},
		{name: "redis", backend: "redis"},
		{name: "redis streams", backend: "redis", stream: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			extra := ""
			if tc.backend == "redis" {
				extra = limSessionYAML(sharedRedisAddr(t), "closed")
			}
			fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
			port := freePort(t)
			dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port, extra: extra})
			env := limitsEnv()
			const limit = 2000
			tok, _ := createToken(t, dir, env, fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d}`, limit))
			p := startServe(t, dir, port, env)

			const n = 200
			c := limClient(n)
			replies := make([]limReply, n)
			limFanOut(n, func(i int) {
				// 30 words echoed back: the reply is cut at max_tokens 20.
				body := limChatJSON("gpt-4o-mini", limWords(30, i), 20, tc.stream && i%2 == 1)
				replies[i] = limPost(c, p.URL+"/v1/chat/completions", tok, body)
			})

			var ok, refused int
			var reported int64
			for i, r := range replies {
				require.NoError(t, r.Err, "request %d", i)
				switch r.Status {
				case 200:
					ok++
					u := r.Usage(t)
					assert.Equal(t, u.PromptTokens+u.CompletionTokens, u.TotalTokens, "request %d usage", i)
					// Cut at max_tokens 20, or lower when the budget's last
					// tokens clamped the cap.
					assert.Positive(t, u.CompletionTokens, "request %d", i)
					assert.LessOrEqual(t, u.CompletionTokens, int64(20), "request %d: reply not cut at max_tokens", i)
					reported += u.TotalTokens
				case 429:
					refused++
					e := r.ErrorShape(t)
					assert.Equal(t, "budget_exceeded", e.Error.Code, "request %d: %s", i, r.Body)
				default:
					t.Errorf("request %d: status %d: %s", i, r.Status, r.Body)
				}
			}
			row := limSettled(t, c, p.URL, tok, "")
			t.Logf("%d admitted, %d refused; used %d of %d, reported %d", ok, refused, row.Used, row.Limit, reported)
			assert.Equal(t, int64(limit), row.Limit)
			assert.Zero(t, row.Reserved, "reservations left after every request finished")
			assert.LessOrEqual(t, row.Used, int64(limit), "budget overspent")
			assert.Equal(t, reported, row.Used, "usage charged differs from usage reported to clients")
			assert.Positive(t, ok)
			assert.Positive(t, refused, "the budget never refused: the test proves nothing")
			// Admission must not be needlessly strict: a refusal means the
			// reservations in flight filled the budget. Each reserves its
			// worst case, the prompt's guaranteed bound (its UTF-8 bytes
			// plus framing, ~215 here) plus the cap of 20, about 4.7 times
			// the ~50 it is charged, so the budget's first fill alone
			// settles more than a fifth of it.
			assert.Greater(t, row.Used, int64(limit/5), "most of the budget left unused while requests were refused")
			p.Stop(t)
		})
	}
}

// TestLimitsBudgetCountsPolicyPrompts: the policy's prompts are sent to the
// provider and billed with the request, so the reservation must include
// them. Otherwise every request whose reply reaches max_tokens costs more
// than it reserved, and concurrent requests overspend the budget although
// the prompt estimate errs high.
func TestLimitsBudgetCountsPolicyPrompts(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	const limit = 3000
	system := limWords(120, 99) // 120 tokens at the fake
	pol := fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d,"prompts":[{"role":"system","content":%q}]}`, limit, system)
	lp := startLimProxy(t, fake.URL(), "", pol)
	p, tok := lp.p, lp.tok

	const n = 100
	c := limClient(n)
	replies := make([]limReply, n)
	limFanOut(n, func(i int) {
		replies[i] = limChat(c, p.URL, tok, "gpt-4o-mini", limWords(10, i), 20)
	})
	var ok int
	var reported int64
	for i, r := range replies {
		require.NoError(t, r.Err, "request %d", i)
		if r.Status == 200 {
			ok++
			u := r.Usage(t)
			require.GreaterOrEqual(t, u.PromptTokens, int64(130), "the policy prompt did not reach the provider")
			reported += u.TotalTokens
			continue
		}
		require.Equal(t, 429, r.Status, "request %d: %s", i, r.Body)
		require.Equal(t, "budget_exceeded", r.Code(), "request %d: %s", i, r.Body)
	}
	row := limSettled(t, c, p.URL, tok, "")
	t.Logf("%d admitted; used %d of %d", ok, row.Used, limit)
	assert.Equal(t, reported, row.Used)
	assert.Zero(t, row.Reserved)
	assert.LessOrEqual(t, row.Used, int64(limit),
		"budget overspent by %d: the reservation leaves out the policy prompts (%d tokens per request)", row.Used-limit, 120)
	p.Stop(t)
}

// TestLimitsBudgetRefusalIsCheap: a refused request reaches no provider and
// is not charged; an exhausted budget refuses everything, streams included.
func TestLimitsBudgetRefusalIsCheap(t *testing.T) {
	t.Parallel()
	fake := startCountingFake(t, fakeupstream.Options{})
	lp := startLimProxy(t, fake.URL(), "", `{"model_regex":"^gpt-4o","max_tokens":100}`)
	p, tok := lp.p, lp.tok
	c := limClient(4)

	// No max_tokens: the default output cap (4096) does not fit a 100-token
	// budget, so the proxy clamps the cap to what is left instead of
	// refusing (TestBudgetEdgesClampThenRefuse covers the clamp).
	r := limChat(c, p.URL, tok, "gpt-4o", "hello", 0)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	assert.LessOrEqual(t, r.Usage(t).TotalTokens, int64(100))

	// A prompt whose guaranteed bound exceeds the whole budget is refused
	// without reaching the provider.
	before := fake.total.Load()
	r = limChat(c, p.URL, tok, "gpt-4o", strings.Repeat("hello ", 30), 0)
	require.Equal(t, 429, r.Status, "%s", r.Body)
	assert.Equal(t, "budget_exceeded", r.ErrorShape(t).Error.Code)
	assert.Equal(t, "insufficient_quota", r.ErrorShape(t).Error.Type)
	assert.Equal(t, before, fake.total.Load(), "a refused request reached the upstream")

	// Spend it: long replies capped at 30 tokens, then the smallest request
	// there is, until even that is refused.
	for i := 0; ; i++ {
		require.Less(t, i, 100, "budget never ran out")
		maxTok := 30
		if i >= 2 {
			maxTok = 1
		}
		r = limChat(c, p.URL, tok, "gpt-4o", "[[fake:long=200]] go", maxTok)
		if r.Status == 429 && maxTok == 1 {
			break
		}
		require.Contains(t, []int{200, 429}, r.Status, "%s", r.Body)
	}
	seen := fake.total.Load()
	row := limSettled(t, c, p.URL, tok, "")
	for _, stream := range []bool{false, true} {
		r = limPost(c, p.URL+"/v1/chat/completions", tok, limChatJSON("gpt-4o", "[[fake:long=200]] go", 1, stream))
		assert.Equal(t, 429, r.Status, "stream=%v: %s", stream, r.Body)
		assert.Equal(t, "budget_exceeded", r.Code(), "stream=%v", stream)
	}
	assert.Equal(t, seen, fake.total.Load(), "refused requests reached the upstream")
	after := limSettled(t, c, p.URL, tok, "")
	assert.Equal(t, row.Used, after.Used, "refusals were charged")
	assert.True(t, strings.Contains(p.Logs(), "budget exceeded"), "no log line for the refusal")
	p.Stop(t)
}
