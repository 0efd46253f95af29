package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/certs"
	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/memory"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/pricing"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tracing"
)

// Emitter takes events; Wants lets the proxy skip building events nobody
// subscribed to.
type Emitter interface {
	Emit(events.Event)
	Wants(typ string) bool
}

// Options are the parts a Server is built from; cmd/cli wires them.
type Options struct {
	Config  *config.Config
	Logger  hclog.Logger
	Tokens  TokenSource
	Hasher  *store.Hasher
	Limiter limits.Limiter
	Rules   *rules.Host // nil: tokens with rules are refused (fail closed)
	// Plugins resolves custom wasm plugins by name and sha256.
	Plugins func(name, sha256 string) ([]byte, error)
	Memory  *memory.Writer // nil: memory blocks are ignored
	Events  Emitter        // nil: no events
	Metrics *metrics.Registry
	Getenv  func(string) string // nil: os.Getenv
	// Routes are extra handlers by exact path (the webhook receiver).
	Routes map[string]fasthttp.RequestHandler
	// Ready reports readiness beyond the proxy's own (e.g. first sync done).
	Ready func() bool
	// NotReady, when set, says why the proxy should not take traffic ("" when
	// it may); /ready answers 503 with that reason.
	NotReady func() string
	Source   string // event source, e.g. "proxy:host"
	// Prices is the price table requests are charged at; nil builds it
	// from Config (Config.PriceTable).
	Prices *pricing.Table
	// Usage receives per-minute rollups of requests and refusals; nil for
	// none.
	Usage *rollup.Aggregator
	// Tracer traces requests; nil (tracing off) costs nothing.
	Tracer *tracing.Tracer
	// RulesLoadWait bounds how long a request waits for its token's rules
	// to finish loading before it is refused with 503 (plugins.load_wait);
	// 0: DefaultRulesLoadWait.
	RulesLoadWait time.Duration
}

// Server is the proxy. New builds it, Serve runs it, Shutdown drains it.
type Server struct {
	cfg         *config.Config
	log         hclog.Logger
	hasher      *store.Hasher
	limiter     limits.Limiter
	rulesHost   *rules.Host
	ruleSets    *ruleSets // nil without a rule host
	templates   *sharedCache[policyTemplate]
	plugins     func(name, sha256 string) ([]byte, error)
	memory      *memory.Writer
	events      Emitter
	source      string
	getenv      func(string) string
	routes      map[string]fasthttp.RequestHandler
	ready       func() bool
	notReady    func() string
	tokens      *tokenCache
	unsubscribe func()
	providers   map[string]*provider
	order       []*provider // providers.yaml order, for model lookups
	allowedKeys map[string]bool
	upstreams   *config.Upstreams // where a token's upstream_url may point
	clients     *clients
	met         *proxyMetrics
	reg         *metrics.Registry
	prices      *pricing.Table
	usage       *rollup.Aggregator
	tracer      *tracing.Tracer

	srv       *fasthttp.Server
	draining  atomic.Bool
	flight    flights // requests and relays that hold a lease
	stopRenew chan struct{}
	renewOnce sync.Once
	connMu    sync.Mutex
	conns     map[*trackedConn]struct{}
	ids       atomic.Uint64
	idPrefix  string
	chunked   chunkedAnthropic // see errshape.go
}

// New builds a Server: providers are checked and every token loaded, so a
// configuration problem shows before the first request.
func New(o Options) (*Server, error) {
	if o.Config == nil || o.Tokens == nil || o.Hasher == nil || o.Limiter == nil {
		return nil, errors.New("proxy: config, tokens, hasher and limiter are required")
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewRegistry()
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	s := &Server{cfg: o.Config, log: o.Logger.Named("proxy"), hasher: o.Hasher, limiter: o.Limiter,
		rulesHost: o.Rules, plugins: o.Plugins, memory: o.Memory, events: o.Events, source: o.Source,
		getenv: o.Getenv, routes: o.Routes, usage: o.Usage, tracer: o.Tracer, ready: o.Ready, notReady: o.NotReady, clients: newClients(), reg: o.Metrics,
		providers: map[string]*provider{}, allowedKeys: map[string]bool{}, upstreams: o.Config.AllowedUpstreams(),
		idPrefix: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
	for _, pc := range o.Config.Providers {
		p, err := newProvider(pc)
		if err != nil {
			return nil, err
		}
		s.providers[p.name] = p
		s.order = append(s.order, p)
		if pc.APIKeyEnv != "" {
			s.allowedKeys[pc.APIKeyEnv] = true
		}
	}
	if s.prices = o.Prices; s.prices == nil {
		pt, err := o.Config.PriceTable()
		if err != nil {
			return nil, fmt.Errorf("building the price table: %w", err)
		}
		s.prices = pt
	}
	s.met = newProxyMetrics(o.Metrics)
	if o.Rules != nil {
		o.Rules.SetObserver(newRuleMetrics(o.Metrics))
		s.ruleSets = newRuleSets(o.Rules, o.Plugins, o.RulesLoadWait, o.Metrics, s.log)
	}
	s.templates = newSharedCache[policyTemplate]()
	s.tokens = newTokenCache(s.buildEntry, s.log)
	// A sync may already be running: changes it applies between the
	// subscription and the listing are kept and replayed by load.
	s.tokens.beginLoad()
	s.unsubscribe = o.Tokens.SubscribeBatch(s.tokens.apply)
	// Rule plugins load in the background, from here on: the proxy serves
	// at once, tokens without rules included; a token's requests wait for
	// its own rules at most RulesLoadWait (rulesLoaded). Entries are built
	// as the store walks its records, one record decoded at a time.
	if err := s.tokens.loadEach(o.Tokens.Each); err != nil {
		s.unsubscribe()
		return nil, fmt.Errorf("loading tokens: %w", err)
	}
	if s.ruleSets != nil {
		s.ruleSets.start()
	}
	s.met.tokens.With().Set(float64(s.tokens.len()))
	s.srv = &fasthttp.Server{
		Handler:                       s.handle,
		Name:                          "tokenomics",
		MaxRequestBodySize:            int(o.Config.Server.MaxBodyBytes),
		ReadTimeout:                   60 * time.Second,
		IdleTimeout:                   120 * time.Second,
		NoDefaultServerHeader:         true,
		NoDefaultDate:                 false,
		DisableHeaderNamesNormalizing: false,
		ErrorHandler:                  s.transportError,
		HeaderReceived:                s.headerReceived,
		CloseOnShutdown:               true,
		Logger:                        hclogAdapter{s.log},
		ConnState:                     s.trackConn,
	}
	s.conns = map[*trackedConn]struct{}{}
	s.stopRenew = make(chan struct{})
	go s.renew(o.Config.Session.LeaseTTL.D(), s.stopRenew)
	return s, nil
}

// Tokens is the number of tokens the proxy serves.
func (s *Server) Tokens() int { return s.tokens.len() }

// Serve accepts on ln until Shutdown. With tlsConfig set the listener also
// answers plain HTTP (see certs.SniffListener).
func (s *Server) Serve(ln net.Listener) error {
	return s.srv.Serve(&trackListener{Listener: ln, s: s})
}

// ListenTLS wraps ln so it serves TLS with the configured or generated
// certificate (covering server.tls.hosts), and plain HTTP on the same port
// as server.tls.allow_plain_http says (Config.PlainHTTPOnTLSPort).
func (s *Server) ListenTLS(ln net.Listener) (net.Listener, error) {
	t := s.cfg.Server.TLS
	tc, err := certs.Load(certs.Options{CertFile: t.CertFile, KeyFile: t.KeyFile, Dir: t.CertDir, Hosts: t.Hosts,
		Log: func(msg string, kv ...any) { s.log.Info(msg, kv...) }})
	if err != nil {
		return nil, err
	}
	plain, explicit := s.cfg.PlainHTTPOnTLSPort()
	if plain && !explicit {
		s.log.Warn("the https port also answers plain http, where tokens travel in clear text; set server.tls.allow_plain_http: false to require TLS there (or true to keep it and silence this)",
			"https_port", s.cfg.Server.HTTPSPort)
	}
	return &certs.SniffListener{Listener: ln, TLS: tc, AllowPlainHTTP: plain}, nil
}

// Shutdown stops accepting, lets in-flight requests and streams finish
// until ctx ends, then closes what is left. Streams still running shortly
// before the deadline are cut: each sends its client a final error event
// and settles what it produced. Shutdown returns once every lease is
// settled (or settleWait has passed), so the caller may close the limiter.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	cutAt := cutTime(ctx)
	done := make(chan error, 1)
	go func() { done <- s.srv.ShutdownWithContext(ctx) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			s.flight.cutAll() // the deadline passed: whatever still runs stops now
			if !s.flight.wait(settleWait) {
				s.log.Warn("requests still unsettled at shutdown", "in_flight", s.flight.count())
			}
			s.renewOnce.Do(func() { close(s.stopRenew) })
			s.unsubscribe()
			if s.ruleSets != nil {
				s.ruleSets.close()
			}
			return err
		case now := <-tick.C:
			s.closeUnused()
			if !cutAt.IsZero() && now.After(cutAt) && s.flight.cutAll() > 0 {
				s.log.Info("shutdown deadline near: cutting streams still running")
			}
		}
	}
}

// settleWait bounds how long Shutdown waits for cut requests to settle.
const settleWait = 5 * time.Second

// cutTime is when Shutdown cuts the streams: a little before the deadline,
// while their connections are still open for the final error event.
func cutTime(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	grace := min(time.Second, time.Until(d)/5)
	return d.Add(-grace)
}

// trackListener registers every connection, so Shutdown can close those
// that carry no request. The registry is touched on accept and close only;
// per-request state changes are one atomic store on the connection.
type trackListener struct {
	net.Listener
	s *Server
}

func (l *trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: l.s}
	tc.since.Store(time.Now().UnixNano())
	l.s.connMu.Lock()
	l.s.conns[tc] = struct{}{}
	l.s.connMu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	s      *Server
	active atomic.Bool
	since  atomic.Int64 // unix nanos of the last state change
	once   sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.connMu.Lock()
		delete(c.s.conns, c)
		c.s.connMu.Unlock()
	})
	return c.Conn.Close()
}

func (s *Server) trackConn(c net.Conn, st fasthttp.ConnState) {
	if tc, ok := c.(*trackedConn); ok {
		tc.active.Store(st == fasthttp.StateActive)
		tc.since.Store(time.Now().UnixNano())
	}
}

// closeUnused closes connections that carry no request during shutdown:
// fasthttp waits for them otherwise, and a client that opened a connection
// and sent nothing would hold the process until shutdown_timeout. A short
// grace covers a request whose first bytes are still in flight.
func (s *Server) closeUnused() {
	cutoff := time.Now().Add(-250 * time.Millisecond).UnixNano()
	s.connMu.Lock()
	var idle []*trackedConn
	for c := range s.conns {
		if !c.active.Load() && c.since.Load() < cutoff {
			idle = append(idle, c)
		}
	}
	s.connMu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
}

// handle dispatches by path; every panic becomes a 500 in the client's
// error shape.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	defer func() {
		if v := recover(); v != nil {
			id := string(ctx.Response.Header.Peek("X-Request-Id"))
			if id == "" {
				id = s.requestID(ctx)
			}
			s.log.Error("panic in handler", "request_id", id, "path", string(ctx.Path()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeErrorFor(ctx, errInternal)
		}
	}()
	start := time.Now()
	s.chunked.take(&ctx.Request.Header)
	path := ctx.Path()
	if ep := endpointFor(path); ep != 0 {
		s.serveLLM(ctx, ep)
		s.met.request(ep.String(), ctx.Response.StatusCode(), time.Since(start))
		return
	}
	switch string(path) {
	case "/health", "/healthz":
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"ok"}`)
	case "/ping":
		ctx.SetContentType("text/plain")
		ctx.SetBodyString("pong")
	case "/ready", "/readyz":
		if s.adminSplit() {
			s.serveReadyStatus(ctx)
			return
		}
		s.serveReady(ctx)
	case "/metrics":
		if s.adminSplit() {
			writeError(ctx, errNotFound)
			return
		}
		s.serveMetrics(ctx)
	case "/v1/models":
		s.serveModels(ctx)
	case "/v1/usage":
		s.serveUsage(ctx)
	case "/v1/messages/count_tokens", "/messages/count_tokens":
		s.serveCountTokens(ctx)
	default:
		if h := s.routes[string(path)]; h != nil {
			h(ctx)
			return
		}
		writeErrorFor(ctx, errNotFound)
	}
}

func (s *Server) serveReady(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	if s.notReady != nil {
		if why := s.notReady(); why != "" {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			b, _ := json.Marshal(map[string]string{"status": "not ready", "reason": why})
			ctx.SetBody(b)
			return
		}
	}
	if s.draining.Load() || (s.ready != nil && !s.ready()) {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(`{"status":"not ready"}`)
		return
	}
	// Plugins that failed to load are reported, not made a reason to leave
	// the pool: their rules fail closed for their own tokens only, and one
	// hostile upload must not take every proxy out of rotation.
	// rules_loading counts the rule sets whose plugins are still loading:
	// their tokens are refused (503 rules_loading) after plugins.load_wait,
	// every other token is served.
	body := `{"status":"ready","tokens":` + strconv.Itoa(s.tokens.len()) +
		`,"rules_loading":` + strconv.FormatInt(s.rulesLoading(), 10)
	if p := s.pluginProblems(); p != nil {
		body += `,"plugins_failed":` + string(p)
	}
	ctx.SetBodyString(body + `}`)
}

func (s *Server) serveMetrics(ctx *fasthttp.RequestCtx) {
	s.met.tokens.With().Set(float64(s.tokens.len()))
	ctx.SetContentType("text/plain; version=0.0.4")
	if err := s.reg.WriteText(ctx); err != nil {
		s.log.Warn("writing metrics", "error", err)
	}
}

// transportError answers what fasthttp refuses before the handler runs:
// oversized bodies above all, in the shape the path calls for. A chunked
// body over the limit reaches here with the request already reset by
// fasthttp; headerReceived noted whether its path was an Anthropic one.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	anthropic := s.chunked.take(&ctx.Request.Header)
	var e *core.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = errBodyTooLarge
		drain(ctx.Conn())
	default:
		e = &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "bad_request", Message: "The request could not be read."}
	}
	if anthropic {
		writeAnthropicError(ctx, e)
	} else {
		writeErrorFor(ctx, e)
	}
	ctx.SetConnectionClose()
}

// requestID takes the client's X-Request-Id if sane, else makes one; it is
// echoed back and logged.
func (s *Server) requestID(ctx *fasthttp.RequestCtx) string {
	if id := ctx.Request.Header.Peek("X-Request-Id"); len(id) > 0 && len(id) <= 64 && printable(id) {
		ctx.Response.Header.SetBytesV("X-Request-Id", id)
		return string(id)
	}
	var buf [40]byte
	b := append(buf[:0], "req_"...)
	b = append(b, s.idPrefix...)
	b = append(b, '_')
	b = strconv.AppendUint(b, s.ids.Add(1), 36)
	ctx.Response.Header.SetBytesV("X-Request-Id", b)
	return string(b)
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// wants reports whether any event target subscribes to typ.
func (s *Server) wants(typ string) bool { return s.events != nil && s.events.Wants(typ) }

// emit builds and sends an event when someone wants it.
func (s *Server) emit(typ string, data any) {
	if s.events == nil || !s.events.Wants(typ) {
		return
	}
	ev, err := events.New(typ, s.source, 0, data)
	if err != nil {
		s.log.Warn("building event", "type", typ, "error", err)
		return
	}
	s.events.Emit(ev)
}

// hclogAdapter lets fasthttp's own messages reach hclog.
type hclogAdapter struct{ l hclog.Logger }

func (a hclogAdapter) Printf(format string, args ...any) { a.l.Debug(fmt.Sprintf(format, args...)) }

// drain reads and discards what a client is still sending of an oversized
// body, so that closing the connection after the 413 does not reset it
// (a close with unread data sends RST, and the client never sees the
// answer). It stops after a short silence, a size cap or a deadline.
func drain(c net.Conn) {
	const (
		idle     = 200 * time.Millisecond
		maxBytes = 64 << 20
		maxTime  = 3 * time.Second
	)
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	buf := make([]byte, 32<<10)
	end := time.Now().Add(maxTime)
	for n := 0; n < maxBytes && time.Now().Before(end); {
		_ = c.SetReadDeadline(time.Now().Add(idle))
		m, err := c.Read(buf)
		n += m
		if err != nil {
			return
		}
	}
}
