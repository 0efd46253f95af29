package test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// setShutdownTimeout rewrites the proxy's server.shutdown_timeout.
func setShutdownTimeout(t *testing.T, dir, d string) {
	t.Helper()
	p := filepath.Join(dir, "config.yaml")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	s := strings.Replace(string(b), "shutdown_timeout: 5s", "shutdown_timeout: "+d, 1)
	require.NotEqual(t, string(b), s, "config.yaml has no shutdown_timeout to replace")
	require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
}

// sseStream is one streamed answer read line by line.
type sseStream struct {
	mu     sync.Mutex
	data   []string
	deltas int
	err    error
}

func (s *sseStream) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deltas
}

func (s *sseStream) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.data) == 0 {
		return ""
	}
	return s.data[len(s.data)-1]
}

// readSSE posts a streamed chat request and records its data lines until
// the server ends the body.
func readSSE(c *http.Client, url, tok, body string, s *sseStream, done func()) {
	defer done()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		s.err = err
		return
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		s.err = err
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		d, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		s.mu.Lock()
		s.data = append(s.data, d)
		if strings.Contains(d, `"content":"`) {
			s.deltas++
		}
		s.mu.Unlock()
	}
}

// TestBudgetEdgesShutdownSettlesCutStreams: SIGTERM with a 1.5s deadline
// while long streams run. Each client gets a final error event (not a bare
// EOF), every lease is settled in Redis before the limiter closes (nothing
// left reserved), and what is charged is what the streams produced, not
// their reservations.
func TestBudgetEdgesShutdownSettlesCutStreams(t *testing.T) {
	t.Parallel()
	rp := limStartRedis(t, false)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	lp := startLimProxy(t, fake.URL(), limSessionYAML(rp.addr(), "closed"), `{"model_regex":"^gpt-4o","max_tokens":100000}`,
		func(dir string) { setShutdownTimeout(t, dir, "1500ms") })
	p, tok, hash := lp.p, lp.tok, lp.hash

	const n, maxTok = 4, 300
	c := limClient(n)
	streams, wg := startStoryStreams(c, p.URL, tok, n, maxTok)
	require.Eventually(t, func() bool {
		for _, s := range streams {
			if s.count() < 3 {
				return false
			}
		}
		return true
	}, 20*time.Second, 20*time.Millisecond, "the streams never started")

	start := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	wg.Wait()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the proxy did not exit; logs:\n%s", p.Logs())
	}
	t.Logf("proxy exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))

	seen := 0
	for i, s := range streams {
		require.NoError(t, s.err, "stream %d", i)
		last := s.last()
		assert.Contains(t, last, `"server_shutting_down"`, "stream %d must end with an error event, got %q", i, last)
		assert.NotEqual(t, "[DONE]", last)
		seen += s.count()
	}

	rc := limRedisClient(t, rp.addr())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := rc.HMGet(ctx, "tkn:{"+hash+"}:b", "u:", "r:").Result()
	require.NoError(t, err)
	used, reserved := redisInt(v[0]), redisInt(v[1])
	t.Logf("%d deltas seen by the clients; charged %d, left reserved %d", seen, used, reserved)
	assert.Zero(t, reserved, "a cut stream was never settled")
	assert.GreaterOrEqual(t, used, int64(seen), "less charged than produced")
	assert.Less(t, used, int64(n*maxTok/2), "charged the reservations, not what was produced")
	leases, err := rc.ZCard(ctx, "tkn:{"+hash+"}:l").Result()
	require.NoError(t, err)
	assert.Zero(t, leases, "leases left in flight")
}

func redisInt(v any) int64 {
	s, _ := v.(string)
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
