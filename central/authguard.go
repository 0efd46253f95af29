package central

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/central/clientaddr"
)

// The API key is the whole of the central server's authentication, so
// guessing it must be slow and visible. authGuard watches every /api/
// answer: each 401 takes one token from the caller's bucket (per source
// address, burst authBurst, refilled one per authRefill); an empty bucket
// answers 429 with Retry-After before the key is even looked at, so a
// locked-out source learns nothing more, right key or wrong. Failures are
// logged at WARN with the source address, at most once per source per
// authLogEvery and authLogCap lines a minute overall, so a flood cannot
// flood the log too.
//
// The source is the TCP peer, or, when the peer is one of the operator's
// trusted proxies (console.trusted_proxies), the client that proxy
// forwards for (central/clientaddr): X-Forwarded-For from anyone else is
// not trusted, since any client can write it.
const (
	authBurst    = 10
	authRefill   = 6 * time.Second
	authLogEvery = 30 * time.Second
	authLogCap   = 20 // WARN lines a minute, all sources together
	authMaxSrcs  = 10000
)

type authGuard struct {
	log hclog.Logger
	now func() time.Time
	// addr finds the source; nil counts the TCP peer.
	addr *clientaddr.Resolver

	mu   sync.Mutex
	srcs map[string]*authSource
	// global log budget for the current minute
	logMinute  time.Time
	logged     int
	suppressed int
}

type authSource struct {
	tokens   float64
	updated  time.Time
	failures int // since the last WARN line for this source
	lastLog  time.Time
}

func newAuthGuard(log hclog.Logger, addr *clientaddr.Resolver) *authGuard {
	return &authGuard{log: log, now: time.Now, addr: addr, srcs: map[string]*authSource{}}
}

// middleware throttles and logs failed authentications on /api/.
func (g *authGuard) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		src := g.addr.Client(r)
		if wait := g.blocked(src); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeError(w, http.StatusTooManyRequests, "too_many_failed_authentications",
				"too many failed authentications from this address; retry later")
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == http.StatusUnauthorized {
			g.fail(src, clientaddr.Peer(r), r.Method+" "+r.URL.Path)
		}
	})
}

// bucket returns src's bucket refilled to now; the caller holds mu.
func (g *authGuard) bucket(src string, now time.Time) *authSource {
	s := g.srcs[src]
	if s == nil {
		if len(g.srcs) >= authMaxSrcs {
			g.prune(now)
		}
		s = &authSource{tokens: authBurst, updated: now}
		g.srcs[src] = s
		return s
	}
	s.tokens = min(authBurst, s.tokens+now.Sub(s.updated).Seconds()/authRefill.Seconds())
	s.updated = now
	return s
}

// prune drops sources whose bucket has refilled; when every source is
// still throttled (a spread-out attack), the oldest half goes.
func (g *authGuard) prune(now time.Time) {
	for k, s := range g.srcs {
		if s.tokens+now.Sub(s.updated).Seconds()/authRefill.Seconds() >= authBurst {
			delete(g.srcs, k)
		}
	}
	for k := range g.srcs {
		if len(g.srcs) < authMaxSrcs/2 {
			break
		}
		delete(g.srcs, k)
	}
}

// blocked returns how long src must wait, 0 when it may try.
func (g *authGuard) blocked(src string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	s, ok := g.srcs[src]
	if !ok {
		return 0
	}
	s = g.bucket(src, now)
	if s.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - s.tokens) * float64(authRefill))
}

// fail records one failed authentication from src (through peer, the TCP
// peer: a trusted proxy or src itself) and logs it, rate-limited.
func (g *authGuard) fail(src, peer, what string) {
	g.mu.Lock()
	now := g.now()
	s := g.bucket(src, now)
	s.tokens = max(0, s.tokens-1)
	s.failures++
	logIt := s.lastLog.IsZero() || now.Sub(s.lastLog) >= authLogEvery
	if logIt {
		if now.Sub(g.logMinute) >= time.Minute {
			if g.suppressed > 0 {
				g.log.Warn("failed authentications not logged in the last minute", "lines_suppressed", g.suppressed)
			}
			g.logMinute, g.logged, g.suppressed = now, 0, 0
		}
		if g.logged >= authLogCap {
			logIt = false
			g.suppressed++
		}
	}
	failures, throttled := s.failures, s.tokens < 1
	if logIt {
		g.logged++
		s.lastLog, s.failures = now, 0
	}
	g.mu.Unlock()
	if logIt {
		g.log.Warn("failed API authentication", "source", src, "peer", peer, "request", what,
			"failures_since_last_report", failures, "throttled", throttled)
	}
}

// statusRecorder remembers the status an inner handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushes,
// deadlines for plugin uploads).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
