package test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// w6rRemoteBehindProxy starts the real central binary with extra console
// settings and a reverse proxy in front of it on 127.0.0.1 (which appends
// the client's address to X-Forwarded-For); it returns the proxy's URL,
// central's own URL and the process.
func w6rRemoteBehindProxy(t *testing.T, console string) (lbURL, direct string, p *proc) {
	t.Helper()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
	f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("console:\n" + console)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	p = startRemote(t, dir, port, proxyEnv())
	direct = fmt.Sprintf("http://127.0.0.1:%d", port)
	target, err := url.Parse(direct)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{DisableKeepAlives: true}
	lb := httptest.NewServer(rp)
	t.Cleanup(lb.Close)
	return lb.URL, direct, p
}

// w6rAPI sends GET /api/v1/tokens with key through c, with extra headers
// (name, value pairs), and returns the status.
func w6rAPI(t *testing.T, c *http.Client, base, key string, hdr ...string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/tokens", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestW6rConsoleNotLockedOutByAPIThrottle: the console calls the REST API
// in-process, and those calls pass the API's failed-authentication
// throttle. They must not share a bucket any network client can empty.
// Mallory, behind the trusted reverse proxy on 127.0.0.1, sends a
// Forwarded header that disagrees with the proxy's X-Forwarded-For, so she
// is counted as the proxy, 127.0.0.1, the address the console's own calls
// were keyed by; ten wrong keys then broke the plugins and fleet pages for
// every operator.
func TestW6rConsoleNotLockedOutByAPIThrottle(t *testing.T) {
	t.Parallel()
	lb, _, _ := w6rRemoteBehindProxy(t, "  trusted_proxies: [\"127.0.0.1/32\"]\n")
	mallory := loopbackClient(t, "127.0.0.2")
	for i := range 10 {
		require.Equal(t, http.StatusUnauthorized, w6rAPI(t, mallory, lb, "wrong-key", "Forwarded", "for=198.51.100.77"), "mallory try %d", i+1)
	}
	require.Equal(t, http.StatusTooManyRequests, w6rAPI(t, mallory, lb, "wrong-key", "Forwarded", "for=198.51.100.77"), "the bucket mallory was counted by is empty")

	bob := loopbackClient(t, "127.0.0.3")
	require.Equal(t, http.StatusOK, signinVia(t, bob, lb, centralKey, ""))
	for _, page := range []string{"/ui/plugins", "/ui/fleet"} {
		resp, err := bob.Get(lb + page)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", page, body)
		assert.NotContains(t, string(body), "too many failed", page)
		assert.NotContains(t, string(body), "429", page)
	}
}

// TestW6rAPIThrottleCountsIPv6By64: the console's sign-in allowance counts
// an IPv6 client by its /64 (every IPv6 customer holds a whole /64); the
// API's failed-authentication throttle must too, or one customer gets ten
// guesses per address, 2^64 times. The test is the trusted proxy itself,
// forwarding for IPv6 clients of one /64.
func TestW6rAPIThrottleCountsIPv6By64(t *testing.T) {
	t.Parallel()
	_, direct, p := w6rRemoteBehindProxy(t, "  trusted_proxies: [\"127.0.0.1/32\"]\n")
	lb := loopbackClient(t, "127.0.0.1")
	for i := range 10 {
		require.Equal(t, http.StatusUnauthorized, w6rAPI(t, lb, direct, "wrong-key", "X-Forwarded-For", fmt.Sprintf("2001:db8:1:2::%x", i+1)), "try %d", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, w6rAPI(t, lb, direct, "wrong-key", "X-Forwarded-For", "2001:db8:1:2:ffff::99"), "another address of the same /64")
	assert.Equal(t, http.StatusTooManyRequests, w6rAPI(t, lb, direct, centralKey, "X-Forwarded-For", "2001:db8:1:2::1"), "the first address")
	assert.Equal(t, http.StatusOK, w6rAPI(t, lb, direct, centralKey, "X-Forwarded-For", "2001:db8:1:3::1"), "the next /64 is someone else")
	assert.Equal(t, http.StatusOK, w6rAPI(t, lb, direct, centralKey, "X-Forwarded-For", "198.51.100.1"), "IPv4 clients are counted alone")
	assert.Contains(t, p.Logs(), "source=2001:db8:1:2::1 ", "the log names the address, not the /64")
}

// TestW6rInboxGuessesThrottled: central's event inbox (/webhook) checks a
// shared secret and an HMAC key on every delivery, with no API key in
// front. Wrong secrets must be throttled per client like wrong API keys
// (else the secret can be guessed online at full speed) and logged at
// most once per client per interval (else any client writes unbounded
// WARN lines), without throttling the client's API calls (a proxy whose
// webhook secret is wrong must still sync its tokens) and without
// counting stale deliveries (a proxy with a skewed clock guesses nothing).
func TestW6rInboxGuessesThrottled(t *testing.T) {
	t.Parallel()
	dir := seedDir(t)
	fake := startFake(t, fakeupstream.Options{})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(providersYAML(fake.URL())), 0o600))
	const key = "change-me-to-match-remote-server"
	env := append(proxyEnv(), "TOKENOMICS_REMOTE_KEY="+key)
	cport := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", cport)
	central := startProc(t, dir, env, base, "/health", "remote", "--addr", fmt.Sprintf("127.0.0.1:%d", cport), "--api-key", key)

	good := events.Credentials{Secret: "change-me-webhook-secret", SigningKey: "change-me-signing-key", Direction: events.DirReport}
	post := func(c *http.Client, creds events.Credentials, at time.Time) int {
		t.Helper()
		id := events.NewID()
		body := fmt.Appendf(nil, `{"id":%q,"type":"rule.violation","time":"2026-12-07T00:00:00Z","source":"proxy:w6r"}`, id)
		req, err := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(body))
		require.NoError(t, err)
		events.SignHeaders(req.Header.Set, creds, id, at, body)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	mallory := loopbackClient(t, "127.0.0.2")
	throttled := false
	for i := range 20 {
		guess := good
		guess.Secret = fmt.Sprintf("guess-%d", i)
		st := post(mallory, guess, time.Now())
		if st == http.StatusTooManyRequests {
			throttled = true
			break
		}
		require.Equal(t, http.StatusUnauthorized, st, "guess %d", i+1)
	}
	assert.True(t, throttled, "20 wrong secrets in a row and never throttled")
	assert.Equal(t, http.StatusTooManyRequests, post(mallory, good, time.Now()), "a throttled client learns nothing, right secret or wrong")
	assert.Equal(t, http.StatusOK, w6rAPI(t, mallory, base, key), "wrong webhook secrets do not throttle the client's API calls")

	bob := loopbackClient(t, "127.0.0.3")
	assert.Equal(t, http.StatusAccepted, post(bob, good, time.Now()), "another client delivers")

	skewed := loopbackClient(t, "127.0.0.4")
	for i := range 15 {
		require.Equal(t, http.StatusUnauthorized, post(skewed, good, time.Now().Add(-time.Hour)), "stale delivery %d", i+1)
	}
	assert.Equal(t, http.StatusAccepted, post(skewed, good, time.Now()), "stale deliveries are not guesses")

	n := 0
	for _, line := range strings.Split(central.Logs(), "\n") {
		if strings.Contains(line, "source=127.0.0.2 ") || strings.Contains(line, `"source":"127.0.0.2"`) {
			n++
		}
	}
	assert.LessOrEqual(t, n, 2, "mallory's refused deliveries are logged rate-limited:\n%s", central.Logs())
	assert.NotContains(t, central.Logs(), "guess-", "no guessed secret in the log")
}

// TestW6rThrottleKeepsStrongKeySync: proxies learn revocations only by
// pulling the token feed (GET /api/v1/tokens?since=N) with the API key.
// When they share a source address with an attacker (one egress NAT, or a
// balancer not listed in console.trusted_proxies), one wrong key every
// 6 s kept that address throttled, and the throttle refused the right key
// too: no proxy behind it learned of a revocation for as long as the
// attacker went on. With a strong API key (32+ characters, not
// predictable) online guessing is hopeless, so a throttled source's
// request carrying the right key is served; wrong keys from it still get
// 429 and are not compared any faster than before.
func TestW6rThrottleKeepsStrongKeySync(t *testing.T) {
	t.Parallel()
	const strong = "Xq7-vR2pLm9sT4wZk8YbN3cHf6JdG1aE5uQ0iOeW"
	dir := newCentralDir(t, centralSetup{fakeURL: "http://127.0.0.1:9"})
	port := freePort(t)
	startRemote(t, dir, port, proxyEnv(), "--api-key", strong)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	shared := loopbackClient(t, "127.0.0.9") // the attacker and the fleet's NAT

	for i := range 10 {
		require.Equal(t, http.StatusUnauthorized, w6rAPI(t, shared, base, fmt.Sprintf("guess-%d", i)), "guess %d", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, w6rAPI(t, shared, base, "guess-x"), "the address is throttled")
	for i := range 5 {
		assert.Equal(t, http.StatusOK, w6rAPI(t, shared, base, strong), "a proxy's pull %d behind the throttled address", i+1)
		assert.Equal(t, http.StatusTooManyRequests, w6rAPI(t, shared, base, fmt.Sprintf("guess-y%d", i)), "the attacker's next guess")
	}
}

// TestW6rThrottleWeakKeyRefusedWhenThrottled: with a key short enough to
// guess online, a throttled source is still refused whatever key it sends
// (TestSecurityCentralThrottlesGuessing runs this with the harness key).
func TestW6rThrottleWeakKeyRefusedWhenThrottled(t *testing.T) {
	t.Parallel()
	const weak = "tokenomics-central"
	dir := newCentralDir(t, centralSetup{fakeURL: "http://127.0.0.1:9"})
	port := freePort(t)
	startRemote(t, dir, port, proxyEnv(), "--api-key", weak)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	shared := loopbackClient(t, "127.0.0.10")
	for i := range 10 {
		require.Equal(t, http.StatusUnauthorized, w6rAPI(t, shared, base, fmt.Sprintf("guess-%d", i)), "guess %d", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, w6rAPI(t, shared, base, weak))
}
