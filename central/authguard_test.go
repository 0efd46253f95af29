package central

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
)

func TestAuthGuardRefillsAndBoundsSources(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	g := newAuthGuard(hclog.NewNullLogger(), nil)
	g.now = func() time.Time { return now }
	h := g.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	do := func(src, key string) int {
		r := httptest.NewRequest("GET", "/api/v1/tokens", nil)
		r.RemoteAddr = src + ":1234"
		r.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for range authBurst {
		assert.Equal(t, 401, do("10.0.0.1", "bad"))
	}
	assert.Equal(t, 429, do("10.0.0.1", "good"))
	assert.Equal(t, 200, do("10.0.0.2", "good"))
	now = now.Add(authRefill)
	assert.Equal(t, 200, do("10.0.0.1", "good"), "one refill later the source may try again")
	assert.Equal(t, 401, do("10.0.0.1", "bad"))
	assert.Equal(t, 429, do("10.0.0.1", "bad"))

	// Health and other non-API paths are never throttled.
	r := httptest.NewRequest("GET", "/health", nil)
	r.RemoteAddr = "10.0.0.1:1"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, 401, w.Code, "reaches the inner handler")

	for i := range authMaxSrcs + 10 {
		do("10.1."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250), "bad")
	}
	assert.LessOrEqual(t, len(g.srcs), authMaxSrcs, "the source table is bounded")
}
