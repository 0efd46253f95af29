package test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestLimitsMemoryUsageSurvivesRestart: with the memory backend, settled
// usage is saved to the token database, so a budget is not refilled by a
// restart (clean stop) or a crash (within one persist interval).
func TestLimitsMemoryUsageSurvivesRestart(t *testing.T) {
	t.Parallel()
	for _, crash := range []bool{false, true} {
		name := map[bool]string{false: "stop", true: "crash"}[crash]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
			port := freePort(t)
			dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
				extra: "session:\n  backend: memory\n  persist_interval: 200ms\n"})
			env := limitsEnv()
			tok, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":100000}`)
			p := startServe(t, dir, port, env)
			c := limClient(4)
			var reported int64
			for range 5 {
				r := limChat(c, p.URL, tok, "gpt-4o", "count me", 10)
				require.Equal(t, 200, r.Status, "%s", r.Body)
				reported += r.Usage(t).TotalTokens
			}
			if crash {
				time.Sleep(600 * time.Millisecond) // three persist intervals
				p.Kill()
			} else {
				p.Stop(t)
			}
			c.CloseIdleConnections()
			p2 := startServe(t, dir, port, env)
			row := limGetUsage(t, c, p2.URL, tok).Budget(t, "")
			assert.Equal(t, reported, row.Used, "usage lost across a %s", name)
			p2.Stop(t)
		})
	}
}

// TestLimitsShutdownWithIdleConnection: a client connection that never
// sent a request (an SDK's spare keep-alive connection, a load balancer's
// probe) must not hold SIGTERM for the whole shutdown_timeout, nor leave the
// closing steps with an expired deadline.
func TestLimitsShutdownWithIdleConnection(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := limitsEnv()
	tok, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":100000}`)
	p := startServe(t, dir, port, env)
	r := limChat(limClient(1), p.URL, tok, "gpt-4o", "hello", 5)
	require.Equal(t, 200, r.Status, "%s", r.Body)

	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // accepted by the server

	start := time.Now()
	p.Stop(t)
	took := time.Since(start)
	t.Logf("stop took %s; logs:\n%s", took.Round(time.Millisecond), p.Logs())
	assert.Less(t, took, 2*time.Second, "SIGTERM waited for an idle connection (shutdown_timeout is 5s)")
	assert.NotContains(t, p.Logs(), "context deadline exceeded", "closing steps ran out of time")
}
