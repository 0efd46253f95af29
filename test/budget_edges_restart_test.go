package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestBudgetEdgesKilledProxyFreesLeases: a proxy killed -9 with streams in
// flight, restarted under its persisted instance id, frees their leases at
// start (long before session.lease_ttl): the max_parallel slots are usable
// at once, nothing stays reserved, and each lease bills the usage its last
// renewal reported, not its reservation.
func TestBudgetEdgesKilledProxyFreesLeases(t *testing.T) {
	t.Parallel()
	rp := limStartRedis(t, false)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	extra := limSessionYAML(rp.addr(), "closed") + "  lease_ttl: 20s\n"
	const n, maxTok = 4, 300
	lp := startLimProxy(t, fake.URL(), extra, fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":100000,"rate_limit":{"max_parallel":%d}}`, n))
	dir, port, env, p, tok, hash := lp.dir, lp.port, lp.env, lp.p, lp.tok, lp.hash
	inst, err := os.ReadFile(filepath.Join(dir, "tokenomics.db.instance"))
	require.NoError(t, err, "no instance id next to the database")

	c := limClient(2 * n)
	streams, wg := startStoryStreams(c, p.URL, tok, n, maxTok)
	// Past the first renewal (every lease_ttl/4 = 5s), which reports usage.
	require.Eventually(t, func() bool {
		for _, s := range streams {
			if s.count() < 60 {
				return false
			}
		}
		return true
	}, 40*time.Second, 50*time.Millisecond, "the streams did not run")
	p.Kill()
	wg.Wait()
	seen := 0
	for _, s := range streams {
		seen += s.count()
	}

	rc := limRedisClient(t, rp.addr())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	leases, err := rc.ZRange(ctx, "tkn:{"+hash+"}:l", 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, leases, n, "the killed proxy's leases should still be held")
	for _, id := range leases {
		assert.True(t, strings.HasPrefix(id, strings.TrimSpace(string(inst))+"."), "lease id %q lacks the instance id", id)
	}

	restart := time.Now()
	p = startServe(t, dir, port, env)
	v, err := rc.HMGet(ctx, "tkn:{"+hash+"}:b", "u:", "r:").Result()
	require.NoError(t, err)
	used, reserved := redisInt(v[0]), redisInt(v[1])
	left, err := rc.ZCard(ctx, "tkn:{"+hash+"}:l").Result()
	require.NoError(t, err)
	t.Logf("restarted in %s; clients saw %d deltas; charged %d, reserved %d, leases left %d",
		time.Since(restart).Round(time.Millisecond), seen, used, reserved, left)
	assert.Zero(t, left, "the predecessor's leases were not freed at start")
	assert.Zero(t, reserved)
	assert.Greater(t, used, int64(n*40), "the leases billed less than their last reports")
	assert.LessOrEqual(t, used, int64(seen+n*40), "billed more than was produced")
	assert.Less(t, used, int64(n*maxTok), "billed the reservations")

	// Every max_parallel slot is free again at once.
	replies := make([]limReply, n)
	limFanOut(n, func(i int) { replies[i] = limChat(c, p.URL, tok, "gpt-4o-mini", "hi [[fake:slow=300ms]]", 5) })
	for i, r := range replies {
		require.NoError(t, r.Err)
		assert.Equal(t, 200, r.Status, "request %d: %s", i, r.Body)
	}
	p.Stop(t)
}
