package test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// Redis dies under a running proxy. Each test owns its redis-server (durable,
// so a restart on the same port brings the counters back) and never touches
// a shared one.

const outagePolicy = `{"model_regex":"^gpt-4o","max_tokens":100000,"rate_limit":{"rules":[{"requests":1000,"window":"1m"}],"max_parallel":50}}`

// limQuickly is how long any answer may take while Redis is down: the Redis
// timeout is 200ms, the rest is slack for a loaded box.
const limQuickly = 1500 * time.Millisecond

func TestLimitsRedisOutageFailClosed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		freeze bool // SIGSTOP: connections accepted, nothing answered
	}{
		{name: "killed"},
		{name: "frozen", freeze: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := limStartRedis(t, true)
			fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
			port := freePort(t)
			dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port, extra: limSessionYAML(rs.addr(), "closed", "200ms")})
			env := limitsEnv()
			tok, hash := createToken(t, dir, env, outagePolicy)
			p := startServe(t, dir, port, env)
			c := limClient(8)
			rc := limRedisClient(t, rs.addr())

			var reported int64
			for i := range 3 {
				r := limChat(c, p.URL, tok, "gpt-4o", "before the outage", 10)
				require.Equal(t, 200, r.Status, "request %d: %s", i, r.Body)
				reported += r.Usage(t).TotalTokens
			}
			used, ok := redisBudgetUsed(t, rc, hash)
			require.True(t, ok, "usage is not in Redis")
			require.Equal(t, reported, used)

			if tc.freeze {
				rs.freeze(t)
			} else {
				rs.kill()
			}
			for i := range 10 {
				r := limChat(c, p.URL, tok, "gpt-4o", "during the outage", 10)
				require.NoError(t, r.Err)
				assert.Equal(t, 503, r.Status, "request %d during the outage: %s", i, r.Body)
				assert.Equal(t, "limits_unavailable", r.Code(), "request %d", i)
				assert.Less(t, r.Elapsed, limQuickly, "request %d took %s", i, r.Elapsed)
			}
			assert.Contains(t, p.Logs(), "redis unreachable", "the proxy did not log the outage")

			if tc.freeze {
				rs.thaw(t)
			} else {
				rs.start(t)
			}
			deadline := time.Now().Add(10 * time.Second)
			var r limReply
			for time.Now().Before(deadline) {
				r = limChat(c, p.URL, tok, "gpt-4o", "after the outage", 10)
				if r.Status == 200 {
					break
				}
				require.Equal(t, 503, r.Status, "%s", r.Body)
				time.Sleep(100 * time.Millisecond)
			}
			require.Equal(t, 200, r.Status, "still refused 10s after Redis came back: %s", r.Body)
			reported += r.Usage(t).TotalTokens
			used, ok = redisBudgetUsed(t, rc, hash)
			require.True(t, ok)
			assert.Equal(t, reported, used, "after recovery the usage is counted in Redis again")
			assert.Equal(t, reported, limSettled(t, c, p.URL, tok, "").Used)
			p.Stop(t)
		})
	}
}

func TestLimitsRedisOutageFailOpen(t *testing.T) {
	t.Parallel()
	rs := limStartRedis(t, true)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port, extra: limSessionYAML(rs.addr(), "open", "200ms")})
	env := limitsEnv()
	tok, hash := createToken(t, dir, env, outagePolicy)
	p := startServe(t, dir, port, env)
	c := limClient(8)
	rc := limRedisClient(t, rs.addr())

	var reported int64
	for i := range 3 {
		r := limChat(c, p.URL, tok, "gpt-4o", "before the outage", 10)
		require.Equal(t, 200, r.Status, "request %d: %s", i, r.Body)
		reported += r.Usage(t).TotalTokens
	}

	rs.kill()
	var during int64
	for i := range 10 {
		r := limChat(c, p.URL, tok, "gpt-4o", "during the outage", 10)
		require.NoError(t, r.Err)
		require.Equal(t, 200, r.Status, "request %d during the outage (fail_mode open): %s", i, r.Body)
		assert.Less(t, r.Elapsed, limQuickly, "request %d took %s", i, r.Elapsed)
		during += r.Usage(t).TotalTokens
	}
	reported += during
	logs := p.Logs()
	assert.Contains(t, logs, "redis unreachable", "the proxy did not log the degraded mode")
	assert.True(t, strings.Contains(logs, "fail_mode=open") || strings.Contains(logs, `"fail_mode":"open"`),
		"the degraded-mode log line does not say fail_mode open")
	// Local counters start from the Redis total last seen (used plus the
	// reservations then in flight, here the last request's: at most 30).
	local := limSettled(t, c, p.URL, tok, "").Used
	assert.GreaterOrEqual(t, local, reported, "usage during the outage (local counters) lost some")
	assert.LessOrEqual(t, local, reported+30, "usage during the outage (local counters) overcounted")

	rs.start(t)
	// The failover probes every second, then pushes the usage it owes.
	deadline := time.Now().Add(10 * time.Second)
	for {
		used, _ := redisBudgetUsed(t, rc, hash)
		if used == reported || time.Now().After(deadline) {
			assert.Equal(t, reported, used, "usage from the outage not reconciled into Redis")
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Eventually(t, func() bool { return strings.Contains(p.Logs(), "redis reachable again") }, 5*time.Second, 50*time.Millisecond,
		"no log line for the recovery")

	// Requests count in Redis again.
	r := limChat(c, p.URL, tok, "gpt-4o", "after the outage", 10)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	reported += r.Usage(t).TotalTokens
	used, _ := redisBudgetUsed(t, rc, hash)
	assert.Equal(t, reported, used, "a request after recovery is not counted in Redis")
	assert.Equal(t, reported, limSettled(t, c, p.URL, tok, "").Used)
	p.Stop(t)
}

// TestLimitsRedisDownAtStart: a proxy whose Redis is down when it starts
// still starts and answers at once (503 closed, 200 open), and counts in
// Redis once it is up.
func TestLimitsRedisDownAtStart(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"closed", "open"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			rs := limStartRedis(t, true)
			rs.kill()
			fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
			port := freePort(t)
			dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port, extra: limSessionYAML(rs.addr(), mode, "200ms")})
			env := limitsEnv()
			tok, hash := createToken(t, dir, env, outagePolicy)
			p := startServe(t, dir, port, env)
			c := limClient(4)

			want := map[string]int{"closed": 503, "open": 200}[mode]
			r := limChat(c, p.URL, tok, "gpt-4o", "hello", 10)
			require.NoError(t, r.Err)
			assert.Equal(t, want, r.Status, "%s", r.Body)
			assert.Less(t, r.Elapsed, limQuickly)

			rs.start(t)
			rc := limRedisClient(t, rs.addr())
			assert.Eventually(t, func() bool {
				r := limChat(c, p.URL, tok, "gpt-4o", "hello", 10)
				_, ok := redisBudgetUsed(t, rc, hash)
				return r.Status == 200 && ok
			}, 10*time.Second, 100*time.Millisecond, "never counted in Redis after it came up")
			p.Stop(t)
		})
	}
}
