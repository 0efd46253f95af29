package console

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionAbsoluteLifetime: a session also ends a fixed time after
// sign-in (12h by default) however busy, so a stolen cookie or a console
// left open with its auto-refreshing pages does not stay signed in forever.
func TestSessionAbsoluteLifetime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := client(t)
	resp := f.signin(t, c, testConsoleKey)
	_ = body(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	// A page every 9 minutes (idle timeout 10m) for just under 12h.
	for range 12*60/9 - 1 {
		f.clock.add(9 * time.Minute)
		r, err := c.Get(f.url + "/ui/audit")
		require.NoError(t, err)
		_ = body(t, r)
		require.Equal(t, http.StatusOK, r.StatusCode, "a busy session under 12h old stays signed in")
	}
	f.clock.add(12*time.Hour - (12*60/9-1)*9*time.Minute)
	resp, err := c.Get(f.url + "/ui/tokens")
	require.NoError(t, err)
	_ = body(t, resp)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "a 12h-old session is still signed in")
	assert.Contains(t, resp.Header.Get("Location"), "/ui/signin")
}

// TestFlashNotFromURL: a ?flash= parameter is not shown. Escaped or not,
// a crafted link would put an attacker's words inside the trusted console
// ("Your key was rotated: sign in again at https://evil.example"); status
// messages come from the session.
func TestFlashNotFromURL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := client(t)
	resp := f.signin(t, c, testConsoleKey)
	_ = body(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	const lure = "Security notice: your console key was rotated. Sign in again at https://console-tokenomics.example"
	resp, err := c.Get(f.url + "/ui/tokens?flash=" + url.QueryEscape(lure))
	require.NoError(t, err)
	page := body(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, page, "console-tokenomics.example", "the console printed the attacker's message")
}
