package central

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"

	"github.com/tokenomics-dev/tokenomics/central/clientaddr"
)

// TestAuthGuardBehindTrustedProxy: requests through a trusted balancer are
// throttled per client it forwards for, so one attacker does not lock the
// proxies out of /api/; a peer that is not trusted is throttled as itself
// whatever X-Forwarded-For it sends.
func TestAuthGuardBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	g := newAuthGuard(hclog.NewNullLogger(), clientaddr.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}))
	now := time.Unix(1_000_000, 0)
	g.now = func() time.Time { return now }
	h := g.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	do := func(peer, xff, key string) int {
		r := httptest.NewRequest("GET", "/api/v1/tokens", nil)
		r.RemoteAddr = peer + ":1234"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		r.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for range authBurst {
		assert.Equal(t, 401, do("10.0.0.1", "198.51.100.66", "bad"))
	}
	assert.Equal(t, 429, do("10.0.0.1", "198.51.100.66", "good"), "the attacker behind the balancer is throttled")
	assert.Equal(t, 429, do("10.0.0.2", "198.51.100.66", "good"), "through any trusted balancer")
	assert.Equal(t, 200, do("10.0.0.1", "198.51.100.7", "good"), "another client behind the same balancer is not")
	assert.Equal(t, 200, do("10.0.0.1", "", "good"), "nor the balancer itself")

	for range authBurst {
		assert.Equal(t, 401, do("203.0.113.9", "198.51.100.8", "bad"))
	}
	assert.Equal(t, 429, do("203.0.113.9", "198.51.100.9", "good"), "an untrusted peer cannot pick a fresh source")
	assert.Equal(t, 200, do("10.0.0.1", "198.51.100.8", "good"), "nor charge the address it named")
}
