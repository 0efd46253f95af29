package fakeupstream

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Server is the fake upstream. It is an http.Handler, so tests may mount it
// anywhere; Start serves it on its own listener.
type Server struct {
	opts       Options
	log        hclog.Logger
	rec        *recorder
	script     script
	failModels map[string]struct{}
	errBodies  [2]map[int][]byte
	variants   variantLog
	models     [2][]byte // GET /v1/models bodies, per format

	seq    atomic.Uint64 // numbers ids: chatcmpl-fake<n>, msg_fake<n>, ...
	active atomic.Int64
	done   chan struct{}
	once   sync.Once

	mu  sync.Mutex
	srv *http.Server
	url string
}

// New returns a server for opts; it does not listen until Start.
func New(opts Options) *Server {
	opts.setDefaults()
	s := &Server{
		opts:       opts,
		log:        opts.Logger.Named("fakeupstream"),
		rec:        newRecorder(opts.RecordLimit),
		failModels: make(map[string]struct{}, len(opts.FailModels)),
		errBodies:  buildErrorCache(),
		done:       make(chan struct{}),
	}
	for _, m := range opts.FailModels {
		s.failModels[m] = struct{}{}
	}
	s.models[fmtOpenAI] = openAIModelList(opts.OpenAIModels)
	s.models[fmtAnthropic] = anthropicModelList(opts.AnthropicModels)
	return s
}

// Start listens on addr ("127.0.0.1:0" when empty) and serves in the
// background. It returns the base URL, e.g. "http://127.0.0.1:41234"; the
// OpenAI base URL is that plus "/v1".
func (s *Server) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", ErrStarted
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listening on %q: %w", addr, err)
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}),
	}
	s.url = "http://" + ln.Addr().String()
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serving", "error", err)
		}
	}()
	return s.url, nil
}

// URL is the base URL Start returned, or "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops listening, drops every connection and releases hung handlers.
// It is safe to call more than once, and without Start.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.done) })
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("closing server: %w", err)
	}
	return nil
}

// Active is the number of requests being handled now: tests use it to check
// that a client's disconnect ended the upstream request.
func (s *Server) Active() int { return int(s.active.Load()) }

// Requests returns the recorded requests, oldest first (control API calls
// excluded).
func (s *Server) Requests() []Request { return s.rec.list() }

// LastRequest returns the most recent recorded request.
func (s *Server) LastRequest() (Request, bool) { return s.rec.last() }

// Reset forgets recorded requests and drops queued scripted responses.
func (s *Server) Reset() {
	s.rec.reset()
	s.script.clear()
}

// Script queues answers for the next requests; see Scripted.
func (s *Server) Script(entries ...Scripted) error {
	for i := range entries {
		if err := entries[i].compile(); err != nil {
			return fmt.Errorf("scripting response %d: %w", i, err)
		}
	}
	s.script.push(entries)
	return nil
}

// Pending is the number of scripted answers not yet used.
func (s *Server) Pending() int { return int(s.script.pending.Load()) }

const controlPrefix = "/_fake/"

func apiForPath(path string) (api, bool) {
	switch path {
	case "/v1/chat/completions":
		return apiChat, true
	case "/v1/completions":
		return apiCompletions, true
	case "/v1/embeddings":
		return apiEmbeddings, true
	case "/v1/responses":
		return apiResponses, true
	case "/v1/messages":
		return apiMessages, true
	}
	return 0, false
}

// formatOf guesses the caller's dialect for paths both providers share.
func formatOf(r *http.Request) format {
	h := r.Header
	if r.URL.Path == "/v1/messages" || h.Get("anthropic-version") != "" ||
		(h.Get("x-api-key") != "" && h.Get("Authorization") == "") {
		return fmtAnthropic
	}
	return fmtOpenAI
}

// ServeHTTP routes one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	path := r.URL.Path
	if strings.HasPrefix(path, controlPrefix) {
		s.serveControl(w, r)
		return
	}
	f := formatOf(r)
	body, err := readBody(r, s.opts.MaxBodyBytes)
	s.rec.add(r, body)
	n := s.seq.Add(1)
	if s.log.IsDebug() {
		s.log.Debug("request", "method", r.Method, "path", path, "bytes", len(body))
	}
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		s.writeError(w, f, status, "", "", nil)
		return
	}
	if path == "/v1/models" || strings.HasPrefix(path, "/v1/models/") {
		if r.Method != http.MethodGet {
			s.writeError(w, f, http.StatusMethodNotAllowed, "", "", nil)
			return
		}
		s.serveModels(w, r, f)
		return
	}
	if path == countTokensPath {
		s.serveCountTokens(w, r, body)
		return
	}
	a, ok := apiForPath(path)
	if !ok {
		s.writeError(w, f, http.StatusNotFound, "", "", nil)
		return
	}
	if r.Method != http.MethodPost {
		s.writeError(w, f, http.StatusMethodNotAllowed, "", "", nil)
		return
	}
	s.serveAPI(w, r, a, body, n)
}

// authorize checks the provider key; it returns 0 or the status and message
// of the refusal.
func (s *Server) authorize(r *http.Request, f format) (int, string) {
	if f == fmtAnthropic {
		got := r.Header.Get("x-api-key")
		if want := s.opts.AnthropicKey; want != "" {
			if got == "" {
				return http.StatusUnauthorized, msgAnthropicNoKey
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				return http.StatusUnauthorized, msgAnthropicBadKey
			}
		}
		if r.Header.Get("anthropic-version") == "" {
			return http.StatusBadRequest, msgAnthropicNoVer
		}
		return 0, ""
	}
	want := s.opts.OpenAIKey
	if want == "" {
		return 0, ""
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return http.StatusUnauthorized, msgOpenAINoKey
	}
	got, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return http.StatusUnauthorized, msgOpenAIBadKey
	}
	return 0, ""
}

// serveAPI answers a generation or embeddings request.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, a api, body []byte, n uint64) {
	f := fmtOpenAI
	if a == apiMessages {
		f = fmtAnthropic
	}
	if status, msg := s.authorize(r, f); status != 0 {
		s.writeError(w, f, status, msg, "", nil)
		return
	}
	s.noteVariantKeys(body)
	c, err := parseCall(a, body)
	if err != nil {
		s.writeError(w, f, http.StatusBadRequest, err.Error(), "", nil)
		return
	}
	d, clean, err := parseDirectives(c.userText)
	if err != nil {
		s.writeError(w, f, http.StatusBadRequest, err.Error(), "", nil)
		return
	}
	if _, fail := s.failModels[c.model]; fail {
		s.writeError(w, f, http.StatusServiceUnavailable, "", "", nil)
		return
	}
	var errBody []byte
	if sc, ok := s.script.pop(c.model); ok {
		d.merge(sc.dir)
		for k, v := range sc.Header {
			w.Header().Set(k, v)
		}
		if sc.Body != "" {
			errBody = []byte(sc.Body)
		}
	}
	if d.status != 0 && d.status != http.StatusOK {
		if d.slow > 0 {
			s.sleep(r, d.slow)
		}
		if d.hang {
			s.hang(r)
		}
		s.writeError(w, f, d.status, "", d.retryAfter, errBody)
		return
	}
	if d.hang {
		s.hang(r)
	}
	x := &exchange{s: s, w: w, r: r, c: c, n: n, created: time.Now().Unix()}
	x.p = newPlan(c, d, clean)
	switch a {
	case apiChat:
		x.chat()
	case apiCompletions:
		x.completions()
	case apiEmbeddings:
		x.embeddings()
	case apiResponses:
		x.responses()
	case apiMessages:
		x.messages()
	}
}

// exchange is one reply being written.
type exchange struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	c       *call
	p       plan
	n       uint64
	created int64
}

// appendID appends a quoted id such as "chatcmpl-fake42".
func (x *exchange) appendID(b []byte, prefix string) []byte {
	b = append(b, '"')
	b = append(b, prefix...)
	b = append(b, "fake"...)
	b = appendUint(b, x.n)
	return append(b, '"')
}

var errTooLarge = errors.New("fakeupstream: request body too large")

// readBody reads the whole body (so net/http starts watching for the client
// going away) into a fresh slice that the recorder may keep.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1
	}
	b := make([]byte, 0, size)
	lr := io.LimitReader(r.Body, limit+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return b, fmt.Errorf("reading request body: %w", err)
		}
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}
