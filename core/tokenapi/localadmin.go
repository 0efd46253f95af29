package tokenapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// shutdownTimeout bounds how long Close waits for in-flight admin requests.
const shutdownTimeout = 5 * time.Second

// LocalAdmin serves a Manager on loopback for local commands while the
// server process holds the database lock, and advertises itself with a
// discovery file.
type LocalAdmin struct {
	m      Manager
	logger hclog.Logger

	mu     sync.Mutex
	extra  []route
	srv    *http.Server
	addr   string
	dbPath string
	done   chan struct{} // closed when Serve returns
}

// route is an endpoint served next to the token API (Handle).
type route struct {
	pattern string
	h       http.Handler
}

// NewLocalAdmin returns an unstarted LocalAdmin for m. A nil m serves no
// token API (a synced proxy's tokens are central's), only what Handle
// adds.
func NewLocalAdmin(m Manager, logger hclog.Logger) *LocalAdmin {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &LocalAdmin{m: m, logger: logger.Named("tokenapi")}
}

// Handle serves h at pattern (an http.ServeMux pattern outside
// /api/v1/tokens, e.g. "GET /api/v1/usage") behind the same secret as the
// token API, so local commands can read what only the running process
// can (its database is locked). Call it before Start.
func (a *LocalAdmin) Handle(pattern string, h http.Handler) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.extra = append(a.extra, route{pattern, h})
}

// handler is the token API (when there is a Manager) and the added routes,
// all behind auth.
func (a *LocalAdmin) handler(auth Authenticator) http.Handler {
	authed := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if !auth(req) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tokenomics"`)
				writeError(w, http.StatusUnauthorized, CodeUnauthorized, "missing or wrong API key", nil)
				return
			}
			h.ServeHTTP(w, req)
		})
	}
	tokens := authed(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint", nil)
	}))
	if a.m != nil {
		tokens = NewHandler(a.m, auth, a.logger)
	}
	if len(a.extra) == 0 {
		return tokens
	}
	mux := http.NewServeMux()
	for _, r := range a.extra {
		mux.Handle(r.pattern, authed(r.h))
	}
	mux.Handle("/", tokens)
	return mux
}

// Start listens on addr (a loopback host:port; port 0 picks one), serves the
// token API behind a fresh random bearer secret, and writes the discovery
// file of dbPath.
func (a *LocalAdmin) Start(dbPath, addr string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv != nil {
		return errors.New("tokenapi: local admin already started")
	}
	if err := checkLoopback(addr); err != nil {
		return fmt.Errorf("starting local admin: %w", err)
	}
	secret, err := newSecret()
	if err != nil {
		return fmt.Errorf("starting local admin: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("starting local admin on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           a.handler(BearerAuth(secret)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          a.logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	bound := ln.Addr().String()
	if err := WriteDiscovery(dbPath, Discovery{Addr: bound, Secret: secret, PID: os.Getpid()}); err != nil {
		_ = ln.Close()
		return fmt.Errorf("starting local admin: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("local admin stopped", "addr", bound, "error", err)
		}
	}()
	a.srv, a.addr, a.dbPath, a.done = srv, bound, dbPath, done
	a.logger.Info("local admin listening", "addr", bound, "discovery", DiscoveryPath(dbPath))
	return nil
}

// Addr returns the bound address, or "" before Start.
func (a *LocalAdmin) Addr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addr
}

// Close removes the discovery file first, so no new client finds a server
// that is going away, then shuts the server down. It is safe to call when
// not started and more than once.
func (a *LocalAdmin) Close() error {
	a.mu.Lock()
	srv, dbPath, done := a.srv, a.dbPath, a.done
	a.srv = nil
	a.mu.Unlock()
	if srv == nil {
		return nil
	}
	rmErr := RemoveDiscovery(dbPath)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(ctx)
	<-done
	if shutErr != nil {
		shutErr = fmt.Errorf("shutting down local admin: %w", shutErr)
	}
	return errors.Join(rmErr, shutErr)
}

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating admin secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
