package proxy

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

const (
	piiMaskPolicy = `{"max_tokens":1000000,"rules":[{"name":"pii","type":"pii","detect":["email"],"action":"mask"}]}`
	kwFailPolicy  = `{"max_tokens":1000000,"rules":[{"name":"kw","type":"keyword","keywords":["forbidden"],"action":"fail"}]}`
	plainPolicy   = `{"max_tokens":1000000}`
)

// recordingUpstream answers chatAnswer and keeps every body it received.
type recordingUpstream struct {
	mu     sync.Mutex
	bodies []string
}

func (u *recordingUpstream) received() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.bodies...)
}

func startRecordingUpstream(tb testing.TB) (*recordingUpstream, string) {
	tb.Helper()
	u := &recordingUpstream{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		u.mu.Lock()
		u.bodies = append(u.bodies, string(ctx.PostBody()))
		u.mu.Unlock()
		ctx.SetContentType("application/json")
		ctx.SetBody(chatAnswer)
	}}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return u, "http://" + ln.Addr().String()
}

// newLoadingServer builds a Server whose rule host compiles into cache
// (an empty directory: the plugins of its tokens compile cold after New
// returns); wait is Options.RulesLoadWait. It returns one token per policy.
func newLoadingServer(tb testing.TB, upstream, cache string, wait time.Duration, policies ...string) (*Server, *store.DB, []string) {
	tb.Helper()
	dist := filepath.Join("..", "..", "plugins", "dist")
	if _, err := os.Stat(filepath.Join(dist, "builtin.wasm")); err != nil {
		tb.Skip("plugins/dist/builtin.wasm is missing: run make plugins")
	}
	h := rules.New(rules.Config{Builtins: os.DirFS(dist), CacheDir: cache, CallTimeout: 5 * time.Second,
		InitTimeout: time.Minute}, nil)
	require.NoError(tb, h.Provision(context.Background()))
	tb.Cleanup(func() { _ = h.Close(context.Background()) })
	cfg := &config.Config{Providers: []config.Provider{{Name: "openai", UpstreamURL: upstream,
		APIKeyEnv: "OPENAI_API_KEY", Models: []string{"gpt-4o"}}}}
	cfg.SetDefaults()
	db, err := store.Open(filepath.Join(tb.TempDir(), "tokens.db"),
		store.Options{HashKey: []byte("bench-hash-key-0123456789abcdef0123"), LockTimeout: time.Second})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	var toks []string
	for _, p := range policies {
		tok, _, err := db.Create([]byte(p), nil)
		require.NoError(tb, err)
		toks = append(toks, tok)
	}
	lim, err := limits.NewMemory(limits.MemoryOptions{})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = lim.Close() })
	s, err := New(Options{Config: cfg, Tokens: db, Hasher: db.Hasher(), Limiter: lim, Rules: h, RulesLoadWait: wait,
		Getenv: func(string) string { return testProviderKey }})
	require.NoError(tb, err)
	return s, db, toks
}

func chat(tb testing.TB, c *fasthttp.Client, path, tok, body string) (int, string, string) {
	tb.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://proxy" + path)
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.SetBodyString(body)
	// A cold compile under -race on a busy machine holds a request long.
	require.NoError(tb, c.DoTimeout(req, resp, 3*time.Minute))
	return resp.StatusCode(), string(resp.Body()), string(resp.Header.Peek("Retry-After"))
}

// waitRulesLoaded polls until no rule set of s is loading.
func waitRulesLoaded(tb testing.TB, s *Server) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Minute) // a cold compile under -race on a busy machine
	for s.rulesLoading() > 0 {
		require.True(tb, time.Now().Before(deadline), "rules still loading after 5 minutes")
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRulesLoadingFailClosed: New returns before the rule plugins compiled;
// meanwhile a token without rules is served, and a token whose rules are
// still loading is refused with 503 rules_loading and Retry-After (OpenAI
// shape, Anthropic shape on /v1/messages) and never reaches the upstream
// unchecked. Once loaded, its requests are checked and masked.
func TestRulesLoadingFailClosed(t *testing.T) {
	t.Parallel()
	up, url := startRecordingUpstream(t)
	// 1 ns: New holds the rule sets until every token is loaded, then the
	// plugin loads from the cache (tens of milliseconds at least), so the
	// first requests find them loading. (The end-to-end test
	// TestServeReadyBeforeRulesCompile compiles cold, without -race.)
	s, _, toks := newLoadingServer(t, url, sharedWasmCache(t), time.Nanosecond, plainPolicy, piiMaskPolicy)
	c := serveInMemory(t, s)
	plain, ruled := toks[0], toks[1]
	const email = "maria.keller@example.com"
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"write to ` + email + `"}]}`

	require.Positive(t, s.rulesLoading(), "New waited for the rule plugins")
	code, out, retry := chat(t, c, "/v1/chat/completions", ruled, body)
	if s.rulesLoading() > 0 || code == 503 {
		assert.Equal(t, 503, code, "%s", out)
		assert.Contains(t, out, `"code":"rules_loading"`)
		assert.Contains(t, out, `"type":"server_error"`)
		assert.Equal(t, "1", retry)
		code, out, _ = chat(t, c, "/v1/messages", ruled, `{"model":"gpt-4o","max_tokens":10,"messages":[{"role":"user","content":"hi `+email+`"}]}`)
		if code == 503 {
			assert.Contains(t, out, `{"type":"error","error":{"type":"`)
			assert.Contains(t, out, "still loading")
		}
	}
	code, out, _ = chat(t, c, "/v1/chat/completions", plain, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	assert.Equal(t, 200, code, "a token without rules is served while rules load: %s", out)
	for _, b := range up.received() {
		assert.NotContains(t, b, email, "nothing reached the upstream unchecked")
	}

	waitRulesLoaded(t, s)
	before := len(up.received())
	code, out, _ = chat(t, c, "/v1/chat/completions", ruled, body)
	require.Equal(t, 200, code, "%s", out)
	got := up.received()
	require.Len(t, got, before+1)
	assert.NotContains(t, got[before], email)
	assert.Contains(t, got[before], "REDACTED")
	assert.Contains(t, getReady(t, c), `"rules_loading":0`)
}

// TestRulesLoadWaitHolds: within plugins.load_wait a request is held until
// its rules loaded, then checked, rather than refused.
func TestRulesLoadWaitHolds(t *testing.T) {
	t.Parallel()
	up, url := startRecordingUpstream(t)
	s, _, toks := newLoadingServer(t, url, sharedWasmCache(t), 5*time.Minute, kwFailPolicy)
	c := serveInMemory(t, s)
	code, out, _ := chat(t, c, "/v1/chat/completions", toks[0], `{"model":"gpt-4o","messages":[{"role":"user","content":"a forbidden word"}]}`)
	assert.Equal(t, 403, code, "held, then checked: %s", out)
	assert.Contains(t, out, "content_policy_violation")
	assert.Empty(t, up.received())
}

// sharedWasmCache is a compilation cache the package's tests share, so
// only the first compiles the plugins cold.
func sharedWasmCache(tb testing.TB) string {
	dir := filepath.Join(os.TempDir(), "tokenomics-proxy-test-wasm-cache")
	require.NoError(tb, os.MkdirAll(dir, 0o700))
	return dir
}

func getReady(tb testing.TB, c *fasthttp.Client) string {
	tb.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://proxy/ready")
	require.NoError(tb, c.DoTimeout(req, resp, time.Minute))
	return string(resp.Body())
}

// TestRuleSetsShared: tokens with equal rules share one compiled set,
// tokens with other rules get their own, and a set no token uses any more
// is dropped from the cache.
func TestRuleSetsShared(t *testing.T) {
	t.Parallel()
	_, url := startRecordingUpstream(t)
	policies := []string{piiMaskPolicy, piiMaskPolicy, kwFailPolicy,
		// the same rules inside a policy that differs elsewhere
		`{"max_tokens":5,"rules":[{"name":"pii","type":"pii","detect":["email"],"action":"mask"}]}`}
	s, db, toks := newLoadingServer(t, url, sharedWasmCache(t), time.Minute, policies...)
	entry := func(tok string) *tokenEntry { return s.tokens.get(s.hasher.AppendHash(nil, []byte(tok))) }
	a, b, kw, other := entry(toks[0]), entry(toks[1]), entry(toks[2]), entry(toks[3])
	require.NotNil(t, a.rules)
	assert.Same(t, a.rules, b.rules)
	assert.Same(t, a.rules, other.rules)
	assert.NotSame(t, a.rules, kw.rules)
	waitRulesLoaded(t, s)

	key, ok := shareKey(kw.policy.Rules)
	require.True(t, ok)
	kwHash := kw.hash
	kw = nil
	_, err := db.Delete(kwHash)
	require.NoError(t, err)
	require.Nil(t, s.tokens.get([]byte(kwHash)))
	deadline := time.Now().Add(time.Minute)
	for {
		runtime.GC()
		if !s.ruleSets.sets.has(string(key)) && s.ruleSets.sets.len() == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the unused rule set stayed cached")
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHeldRulesThatDoNotCompile: rules met while New loads the tokens are
// compiled at start; when they do not compile (a wasm plugin this proxy
// cannot fetch) the token is refused with 500 policy_unloadable, as one
// created later is, and its requests never reach the upstream.
func TestHeldRulesThatDoNotCompile(t *testing.T) {
	t.Parallel()
	up, url := startRecordingUpstream(t)
	const missing = `{"max_tokens":1000000,"rules":[{"name":"custom","type":"wasm","plugin":"absent","sha256":"` +
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `"}]}`
	s, db, toks := newLoadingServer(t, url, sharedWasmCache(t), time.Minute, missing)
	c := serveInMemory(t, s)
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	code, out, _ := chat(t, c, "/v1/chat/completions", toks[0], body)
	assert.Equal(t, 500, code, "%s", out)
	assert.Contains(t, out, `"code":"policy_unloadable"`)
	waitRulesLoaded(t, s)

	// Created after start: refused when built, the same way.
	tok, _, err := db.Create([]byte(missing), nil)
	require.NoError(t, err)
	code, out, _ = chat(t, c, "/v1/chat/completions", tok, body)
	assert.Equal(t, 500, code, "%s", out)
	assert.Contains(t, out, `"code":"policy_unloadable"`)
	assert.Empty(t, up.received())
}
