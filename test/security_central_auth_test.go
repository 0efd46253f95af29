package test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientFrom dials from a given loopback address, so one test can be
// several sources.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}}
}

// TestSecurityCentralThrottlesGuessing: 200 wrong API keys from one
// address. After a short burst the central server answers 429 without
// looking at the key (so even the right key is refused from there for a
// while), other addresses are unaffected, and the failures are in the log
// at WARN with the source address, a few lines, not 200.
func TestSecurityCentralThrottlesGuessing(t *testing.T) {
	t.Parallel()
	dir := newCentralDir(t, centralSetup{fakeURL: "http://127.0.0.1:9"})
	port := freePort(t)
	central := startRemote(t, dir, port, proxyEnv())
	url := fmt.Sprintf("http://127.0.0.1:%d/api/v1/tokens", port)

	get := func(c *http.Client, key string) int {
		req, err := http.NewRequest("GET", url, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		if resp.StatusCode == 429 {
			assert.NotEmpty(t, resp.Header.Get("Retry-After"))
		}
		return resp.StatusCode
	}
	attacker := clientFrom("127.0.0.1")
	counts := map[int]int{}
	for i := range 200 {
		counts[get(attacker, fmt.Sprintf("guess-%04d-0123456789", i))]++
	}
	t.Logf("answers to 200 guesses: %v", counts)
	assert.LessOrEqual(t, counts[401], 15, "only a short burst is even checked")
	assert.GreaterOrEqual(t, counts[429], 185)
	assert.Equal(t, 429, get(attacker, centralKey), "a throttled source is refused whatever key it sends")

	other := clientFrom("127.0.0.2")
	assert.Equal(t, 200, get(other, centralKey), "other sources keep working")

	logs := central.Logs()
	warns := 0
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "failed API authentication") {
			warns++
			assert.Contains(t, line, "127.0.0.1")
			assert.Contains(t, line, "WARN")
			assert.NotContains(t, line, "guess-", "the guessed key is never logged")
		}
	}
	assert.GreaterOrEqual(t, warns, 1, "failures are reported")
	assert.LessOrEqual(t, warns, 3, "and rate-limited")
}
