package test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestBudgetEdgesEmptiedRedisDetected: Redis loses its data (FLUSHALL, as a
// restart without persistence would). The proxy notices the missing epoch,
// says so loudly, and writes its copy of the budgets back, so the spent
// budget does not restart at zero.
func TestBudgetEdgesEmptiedRedisDetected(t *testing.T) {
	t.Parallel()
	rp := limStartRedis(t, false)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	lp := startLimProxy(t, fake.URL(), limSessionYAML(rp.addr(), "closed"), `{"model_regex":"^gpt-4o","max_tokens":1000}`)
	p, tok, hash := lp.p, lp.tok, lp.hash
	c := limClient(2)
	for range 3 {
		r := limChat(c, p.URL, tok, "gpt-4o-mini", "count words [[fake:long=200]]", 200)
		require.Equal(t, 200, r.Status, "%s", r.Body)
	}
	before := limSettled(t, c, p.URL, tok, "").Used
	require.Positive(t, before)
	rc := limRedisClient(t, rp.addr())
	ctx, cancel := context.WithTimeout(context.Background(), loadedDeadline)
	defer cancel()
	// Wait until the proxy has seen the epoch: its probe loop (every
	// second) writes the key on this private Redis and remembers the value
	// in the same step. Waited on, not slept on: a loaded machine can delay
	// the loop past any fixed pause, and a flush before the proxy knew an
	// epoch is a fresh store, not a lost one.
	require.Eventually(t, func() bool {
		keys, err := rc.Keys(ctx, "*:epoch").Result()
		return err == nil && len(keys) > 0
	}, loadedDeadline, 20*time.Millisecond, "the proxy never wrote its epoch")
	require.NoError(t, rc.FlushAll(ctx).Err())

	require.Eventually(t, func() bool {
		used, ok := redisBudgetUsed(t, rc, hash)
		return ok && used >= before
	}, loadedDeadline, 50*time.Millisecond, "the emptied store was never restored")
	assert.Contains(t, p.Logs(), "REDIS LOST ITS DATA", "no loud log line")
	after := limSettled(t, c, p.URL, tok, "").Used
	t.Logf("used %d before the flush, %d after the restore", before, after)
	assert.GreaterOrEqual(t, after, before)
	assert.True(t, strings.Contains(p.Logs(), "restored"))
	p.Stop(t)
}
