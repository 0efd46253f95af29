package proxy

import (
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// With server.metrics_addr set, /metrics (usage and refusal totals,
// providers, the token count) and the detailed /ready leave the public
// ports for a listener of their own, which the operator binds to loopback
// or a private network. The public ports then answer /metrics with 404
// and /ready with its status only; /health stays public and minimal.

// adminSplit reports whether metrics live on their own listener.
func (s *Server) adminSplit() bool { return s.cfg.Server.MetricsAddr != "" }

// ServeAdmin serves /metrics, /ready and /health on ln (server.metrics_addr)
// until ln is closed.
func (s *Server) ServeAdmin(ln net.Listener) error {
	srv := &fasthttp.Server{
		Handler:               s.handleAdmin,
		Name:                  "tokenomics-admin",
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           60 * time.Second,
		NoDefaultServerHeader: true,
		MaxRequestBodySize:    1 << 10,
		Logger:                hclogAdapter{s.log},
	}
	return srv.Serve(ln)
}

func (s *Server) handleAdmin(ctx *fasthttp.RequestCtx) {
	switch string(ctx.Path()) {
	case "/metrics":
		s.serveMetrics(ctx)
	case "/ready", "/readyz":
		s.serveReady(ctx)
	case "/health", "/healthz":
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"ok"}`)
	default:
		writeError(ctx, errNotFound)
	}
}

// serveReadyStatus is the public /ready when metrics are split off: the
// status code and word only, no token count or reason.
func (s *Server) serveReadyStatus(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	if s.draining.Load() || (s.ready != nil && !s.ready()) || (s.notReady != nil && s.notReady() != "") {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(`{"status":"not ready"}`)
		return
	}
	ctx.SetBodyString(`{"status":"ready"}`)
}
