package central

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/central/clientaddr"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// Options are what a Server is built from; cmd/cli wires them.
type Options struct {
	// DB is the central token store: a *store.DB (bbolt, the registry in
	// its file) or a PostgreSQL store shared by several replicas.
	DB store.Backend
	// Tokens manages DB. Every change to DB (REST API or local admin) is
	// pushed: New registers a write hook on DB that records the push in
	// the change's own transaction.
	Tokens *tokenapi.Service
	// Registry holds the plugins (OpenRegistry on DB.Bolt()).
	Registry *Registry
	// APIKey is the bearer key of every /api/ request.
	APIKey string
	// NoAuth accepts requests without a key. Only for loopback demos; New
	// refuses an empty APIKey without it.
	NoAuth bool
	// Notices receives the pushes; nil pushes nothing. It writes into the
	// change's bbolt transaction, so it needs DB to be a *store.DB; with
	// PostgreSQL the replicas push through a LeasePusher instead.
	Notices Noticer
	// Metrics is where /metrics figures live; nil makes a registry.
	Metrics *metrics.Registry
	// Fleet keeps the proxies' reports; nil keeps them in memory.
	Fleet FleetStore
	// PushStats reports the push targets for /metrics; nil for none.
	PushStats func() []events.TargetStats

	// Fleet view (usage_mount.go). Usage, when set, serves /api/v1/usage;
	// Events serves /api/v1/events and, with EventVerifiers, the inbox at
	// EventPath (default "/webhook"). Retentions of 0 keep everything.
	Usage          rollup.Store
	UsageRetention time.Duration
	Events         EventStore
	EventVerifiers []*events.Verifier
	EventPath      string
	EventRetention time.Duration
	// Console builds the operators' console (central/console), mounted
	// under /ui/; api is the REST API it calls in-process. nil serves none.
	Console func(api http.Handler) http.Handler
	// ClientAddr finds the client behind a request (trusted proxies,
	// X-Forwarded-For, Forwarded) for the failed-authentication throttle
	// and log lines; nil counts the TCP peer.
	ClientAddr *clientaddr.Resolver
	Logger     hclog.Logger
}

// Server is the central server's HTTP side.
type Server struct {
	o       Options
	log     hclog.Logger
	met     *centralMetrics
	obs     *observability
	handler http.Handler
}

// New builds a Server and hooks the push fan-out into the token service.
func New(o Options) (*Server, error) {
	if o.DB == nil || o.Tokens == nil || o.Registry == nil {
		return nil, ErrIncomplete
	}
	if o.APIKey == "" && !o.NoAuth {
		return nil, ErrNoAPIKey
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewRegistry()
	}
	s := &Server{o: o, log: o.Logger.Named("central"), met: newCentralMetrics(o.Metrics)}
	if o.Notices != nil {
		bdb, ok := o.DB.(*store.DB)
		if !ok {
			return nil, fmt.Errorf("%w: transactional push notices need the bbolt store", ErrIncomplete)
		}
		bdb.OnWrite(s.noteTokens)
	}
	auth := s.authenticator()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /ready", s.ready)
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	tokens := tokenapi.NewHandler(o.Tokens, auth, o.Logger)
	mux.Handle("/api/v1/tokens", tokens)
	mux.Handle("/api/v1/tokens/", tokens)
	plugins := s.pluginRoutes()
	mux.Handle("/api/v1/plugins", requireAuth(auth, plugins))
	mux.Handle("/api/v1/plugins/", requireAuth(auth, plugins))
	mux.Handle("/api/v1/fleet", requireAuth(auth, s.fleetRoutes()))
	s.mountObservability(mux, auth)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	guard := newAuthGuard(s.log, o.ClientAddr)
	api := recoverPanics(guard.middleware(mux), s.log)
	s.handler = api
	if o.Console != nil {
		ui := o.Console(api)
		root := http.NewServeMux()
		root.Handle("/", api)
		root.Handle("/ui/", ui)
		root.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusSeeOther))
		s.handler = recoverPanics(root, s.log)
	}
	return s, nil
}

// Handler serves the API.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ready checks the store: a file that became unreadable takes the server
// out of rotation instead of failing every request behind a 200 /ready.
func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if err := s.o.DB.Check(); err != nil {
		s.log.Error("not ready: the token database cannot be read", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": "the token database cannot be read"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "revision": s.o.DB.Revision()})
}

// authenticator checks the bearer key in constant time.
func (s *Server) authenticator() tokenapi.Authenticator {
	if s.o.NoAuth {
		return func(*http.Request) bool { return true }
	}
	return tokenapi.BearerAuth(s.o.APIKey)
}

// requireAuth runs auth before routing, so an unauthenticated caller learns
// nothing about the routes.
func requireAuth(auth tokenapi.Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !auth(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tokenomics"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong API key")
			return
		}
		next.ServeHTTP(w, r)
	})
}
