package test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// loopbackClient returns a cookie-keeping client whose connections leave
// from local, a loopback address of its own (Linux routes all of
// 127.0.0.0/8 to lo), so one test machine can be several clients.
func loopbackClient(t *testing.T, local string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: tr}
}

// signinVia posts one console sign-in with key to base through c, every
// request carrying the X-Forwarded-For xff ("" for none), and returns the
// final status (200 once signed in and redirected to the tokens page).
func signinVia(t *testing.T, c *http.Client, base, key, xff string) int {
	t.Helper()
	do := func(req *http.Request) *http.Response {
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		return resp
	}
	req, err := http.NewRequest(http.MethodGet, base+"/ui/signin", nil)
	require.NoError(t, err)
	resp := do(req)
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	m := regexp.MustCompile(`name="signin_token" value="([^"]+)"`).FindSubmatch(page)
	require.NotNil(t, m, "no sign-in token on %s", base)
	form := url.Values{"signin_token": {string(m[1])}, "key": {key}, "name": {"w6"}}.Encode()
	req, err = http.NewRequest(http.MethodPost, base+"/ui/signin", strings.NewReader(form))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp = do(req)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestW6ConsoleSigninBehindTrustedProxy runs the real binary behind a
// reverse proxy (httputil.ReverseProxy on 127.0.0.1, which appends the
// client's address to X-Forwarded-For) listed in console.trusted_proxies,
// with clients on their own loopback addresses:
//   - two clients behind the proxy have separate sign-in allowances, and
//     the locked-out one cannot escape by writing its own X-Forwarded-For;
//   - the audit log names the client, not the proxy;
//   - the API's failed-authentication throttle counts clients too;
//   - a peer that is not trusted, talking to central directly, is counted
//     as itself whatever X-Forwarded-For it sends, and charges nobody else.
func TestW6ConsoleSigninBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
	f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("console:\n  signin_attempts: 3\n  trusted_proxies: [\"127.0.0.1/32\"]\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	p := startRemote(t, dir, port, proxyEnv())
	direct := fmt.Sprintf("http://127.0.0.1:%d", port)
	target, err := url.Parse(direct)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{DisableKeepAlives: true}
	lb := httptest.NewServer(rp)
	t.Cleanup(lb.Close)

	alice := loopbackClient(t, "127.0.0.2")
	bob := loopbackClient(t, "127.0.0.3")
	for i := range 3 {
		assert.Equal(t, http.StatusUnauthorized, signinVia(t, alice, lb.URL, "wrong-key", ""), "alice try %d", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, signinVia(t, alice, lb.URL, centralKey, ""), "alice is locked out")
	assert.Equal(t, http.StatusTooManyRequests, signinVia(t, alice, lb.URL, centralKey, "203.0.113.50"),
		"alice's own X-Forwarded-For (left of the proxy's hop) does not give her a fresh allowance")
	assert.Equal(t, http.StatusUnauthorized, signinVia(t, bob, lb.URL, "wrong-key", ""), "bob has his own allowance")
	assert.Equal(t, http.StatusOK, signinVia(t, bob, lb.URL, centralKey, ""), "bob signs in while alice is locked out")

	resp, err := bob.Get(lb.URL + "/ui/audit")
	require.NoError(t, err)
	audit, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(audit), "w6 (127.0.0.3)", "the audit log names bob")
	assert.NotContains(t, string(audit), "(127.0.0.1)", "not the proxy")
	assert.Contains(t, p.Logs(), `source=127.0.0.2 peer=127.0.0.1`, "failed sign-ins are logged with the client and the proxy")

	// The API throttle (authBurst 10 failures) shares the resolver.
	api := func(c *http.Client, key string) int {
		req, err := http.NewRequest(http.MethodGet, lb.URL+"/api/v1/tokens", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 10 {
		require.Equal(t, http.StatusUnauthorized, api(alice, "wrong-key"), "alice API try %d", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, api(alice, centralKey), "alice is throttled on the API")
	assert.Equal(t, http.StatusOK, api(bob, centralKey), "bob is not")
	assert.Contains(t, p.Logs(), "failed API authentication: source=127.0.0.2 peer=127.0.0.1", "the API's log line names the client and the proxy")

	// Straight to central, 127.0.0.4 is not a trusted proxy: whatever it
	// writes, its tries count against 127.0.0.4.
	mallory := loopbackClient(t, "127.0.0.4")
	for i, spoof := range []string{"127.0.0.5", "127.0.0.6", "127.0.0.7, 127.0.0.1"} {
		assert.Equal(t, http.StatusUnauthorized, signinVia(t, mallory, direct, "wrong-key", spoof), "mallory try %d", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, signinVia(t, mallory, direct, centralKey, "127.0.0.8"), "mallory cannot pick a fresh key")
	assert.Equal(t, http.StatusTooManyRequests, signinVia(t, mallory, lb.URL, centralKey, ""), "nor through the proxy")
	carol := loopbackClient(t, "127.0.0.5")
	assert.Equal(t, http.StatusOK, signinVia(t, carol, lb.URL, centralKey, ""), "the address mallory named was not charged")
}

// TestW6TrustedProxiesBadCIDR: a bad console.trusted_proxies entry stops
// `remote` at start with the field, the value and what is expected.
func TestW6TrustedProxiesBadCIDR(t *testing.T) {
	t.Parallel()
	dir := newCentralDir(t, centralSetup{fakeURL: "http://127.0.0.1:9"})
	f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("console:\n  trusted_proxies: [\"10.0.0.0/8\", \"10.0.0.0/40\"]\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	r := run(t, dir, proxyEnv(), "remote", "--addr", "127.0.0.1:0", "--api-key", centralKey)
	assert.NotEqual(t, 0, r.code)
	assert.Contains(t, r.stderr, "console.trusted_proxies[1]")
	assert.Contains(t, r.stderr, `"10.0.0.0/40" is not a valid CIDR`)
}
