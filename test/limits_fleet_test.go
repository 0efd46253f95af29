package test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// Three proxies on one Redis, the same token in each: one budget, one rate
// limit and one max_parallel for the whole fleet.

func TestLimitsFleetSharedBudget(t *testing.T) {
	t.Parallel()
	addr := sharedRedisAddr(t)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	const limit = 3000
	fl := startFleet(t, 3, fake.URL(), limSessionYAML(addr, "closed"),
		fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d}`, limit))

	const n = 240
	c := limClient(n)
	replies := make([]limReply, n)
	limFanOut(n, func(i int) {
		replies[i] = limChat(c, fl.procs[i%3].URL, fl.tok, "gpt-4o-mini", limWords(30, i), 20)
	})
	var reported int64
	okBy := [3]int{}
	refused := 0
	for i, r := range replies {
		require.NoError(t, r.Err, "request %d", i)
		switch r.Status {
		case 200:
			okBy[i%3]++
			reported += r.Usage(t).TotalTokens
		case 429:
			refused++
			assert.Equal(t, "budget_exceeded", r.ErrorShape(t).Error.Code, "request %d", i)
		default:
			t.Errorf("request %d: status %d: %s", i, r.Status, r.Body)
		}
	}
	rows := make([]limBudgetRow, 3)
	for i, p := range fl.procs {
		rows[i] = limSettled(t, c, p.URL, fl.tok, "")
	}
	t.Logf("admitted per proxy %v, %d refused; used %d of %d", okBy, refused, rows[0].Used, limit)
	for i := range rows {
		assert.Equal(t, rows[0], rows[i], "proxies %d and 0 disagree about the shared budget", i)
	}
	assert.LessOrEqual(t, rows[0].Used, int64(limit), "the fleet overspent the shared budget")
	assert.Equal(t, reported, rows[0].Used, "usage charged differs from usage reported to clients")
	assert.Zero(t, rows[0].Reserved)
	assert.Positive(t, refused, "no refusal: the test proves nothing")
	// With three separate budgets the fleet would admit three times as much.
	total := okBy[0] + okBy[1] + okBy[2]
	assert.Less(t, total*50, 2*limit, "the fleet admitted %d requests: budgets are not shared", total)

	rc := limRedisClient(t, addr)
	used, ok := redisBudgetUsed(t, rc, fl.hash)
	require.True(t, ok, "no budget for the token in Redis (tkn:{hash}:b u:)")
	assert.Equal(t, rows[0].Used, used)
}

func TestLimitsFleetSharedRateLimit(t *testing.T) {
	t.Parallel()
	addr := sharedRedisAddr(t)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	fl := startFleet(t, 3, fake.URL(), limSessionYAML(addr, "closed"),
		`{"model_regex":"^gpt-4o","max_tokens":1000000,"rate_limit":{"rules":[{"requests":30,"window":"1m"}]}}`)
	c := limClient(64)
	outsideMinuteEdge(t, 5*time.Second)

	const n = 60
	replies := make([]limReply, n)
	limFanOut(n, func(i int) {
		replies[i] = limChat(c, fl.procs[i%3].URL, fl.tok, "gpt-4o", "hi", 5)
	})
	okBy := [3]int{}
	for i, r := range replies {
		require.NoError(t, r.Err, "request %d", i)
		if r.Status == 200 {
			okBy[i%3]++
			assert.Equal(t, "30", r.Header.Get("X-Ratelimit-Limit-Requests"), "request %d", i)
			rem, err := strconv.Atoi(r.Header.Get("X-Ratelimit-Remaining-Requests"))
			if assert.NoError(t, err, "request %d: x-ratelimit-remaining-requests", i) {
				assert.True(t, rem >= 0 && rem < 30, "request %d: remaining %d", i, rem)
			}
			continue
		}
		require.Equal(t, 429, r.Status, "request %d: %s", i, r.Body)
		e := r.ErrorShape(t)
		assert.Equal(t, "rate_limit_exceeded", e.Error.Code, "request %d", i)
		assert.Equal(t, "rate_limit_error", e.Error.Type, "request %d", i)
		ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if assert.NoError(t, err, "request %d: Retry-After %q", i, r.Header.Get("Retry-After")) {
			// A sliding window drains over the next bucket too: the wait for a
			// slot can exceed one window by the time the previous bucket's
			// weight needs to fall (here up to a couple of seconds).
			assert.True(t, ra >= 1 && ra <= 120, "request %d: Retry-After %d", i, ra)
		}
	}
	total := okBy[0] + okBy[1] + okBy[2]
	t.Logf("admitted per proxy %v", okBy)
	assert.Equal(t, 30, total, "one 30/min limit across three proxies")

	// A refusal tells the client its limit like OpenAI does.
	r := limChat(c, fl.procs[1].URL, fl.tok, "gpt-4o", "hi", 5)
	require.Equal(t, 429, r.Status, "%s", r.Body)
	assert.Equal(t, "30", r.Header.Get("X-Ratelimit-Limit-Requests"), "429 without x-ratelimit-limit-requests")
	assert.Equal(t, "0", r.Header.Get("X-Ratelimit-Remaining-Requests"), "429 without x-ratelimit-remaining-requests")
	assert.NotEmpty(t, r.Header.Get("X-Ratelimit-Reset-Requests"), "429 without x-ratelimit-reset-requests")
}

func TestLimitsFleetSharedMaxParallel(t *testing.T) {
	t.Parallel()
	addr := sharedRedisAddr(t)
	fake := startCountingFake(t, fakeupstream.Options{RecordLimit: -1})
	fl := startFleet(t, 3, fake.URL(), limSessionYAML(addr, "closed"),
		`{"model_regex":"^gpt-4o","max_tokens":1000000,"rate_limit":{"max_parallel":2}}`)
	c := limClient(16)

	const n = 12
	replies := make([]limReply, n)
	start := time.Now()
	limFanOut(n, func(i int) {
		replies[i] = limChat(c, fl.procs[i%3].URL, fl.tok, "gpt-4o", "[[fake:slow=2s]] hi", 5)
	})
	ok, refused := 0, 0
	for i, r := range replies {
		require.NoError(t, r.Err, "request %d", i)
		switch r.Status {
		case 200:
			ok++
		case 429:
			refused++
			assert.Equal(t, "too_many_parallel_requests", r.ErrorShape(t).Error.Code, "request %d", i)
			assert.NotEmpty(t, r.Header.Get("Retry-After"), "request %d", i)
			assert.Less(t, r.Elapsed, time.Second, "request %d: a refusal waited", i)
		default:
			t.Errorf("request %d: status %d: %s", i, r.Status, r.Body)
		}
	}
	t.Logf("%d admitted, %d refused, peak %d at the upstream, in %s", ok, refused, fake.peak.Load(), time.Since(start).Round(time.Millisecond))
	assert.LessOrEqual(t, fake.peak.Load(), int64(2), "more than max_parallel requests in flight across the fleet")
	assert.Equal(t, int64(2), fake.peak.Load(), "max_parallel 2 never reached")
	assert.Equal(t, 2, ok, "all %d requests arrived within the 2s of the first two", n)
	assert.Equal(t, n-2, refused)

	// The slots are free again on every proxy.
	for i, p := range fl.procs {
		r := limChat(c, p.URL, fl.tok, "gpt-4o", "hi", 5)
		assert.Equal(t, 200, r.Status, "proxy %d after the burst: %s", i, r.Body)
	}
}
