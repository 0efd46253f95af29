package proxy

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

const testProviderKey = "sk-test-provider-key"

// chatAnswer is a fixed chat completion of about 1 KB with usage, what a
// small real answer weighs.
var chatAnswer = func() []byte {
	text := strings.Repeat("The proxy relays this answer unchanged. ", 22)
	return []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"` + text + `","refusal":null},` +
		`"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":260,"completion_tokens":154,` +
		`"total_tokens":414,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},` +
		`"system_fingerprint":"fp_bench"}`)
}()

// chatRequest1KB is a chat request body of about 1 KB.
var chatRequest1KB = []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},` +
	`{"role":"user","content":"` + strings.Repeat("Summarise the quarterly numbers please. ", 24) + `"}],"max_tokens":256}`)

// fixedUpstream serves chatAnswer on loopback TCP (the proxy dials real
// addresses), checking the provider key, so the numbers measure the proxy
// rather than a fake's JSON work.
func fixedUpstream(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	want := []byte("Bearer " + testProviderKey)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if !bytes.Equal(ctx.Request.Header.Peek("Authorization"), want) {
			ctx.SetStatusCode(401)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(chatAnswer)
	}}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

// newTestServer builds a Server over a fresh token database with one
// OpenAI provider at upstream and one token of policy; no rules, no events.
func newTestServer(tb testing.TB, upstream, policy string) (*Server, string, limits.Limiter) {
	tb.Helper()
	cfg := &config.Config{Providers: []config.Provider{{Name: "openai", UpstreamURL: upstream,
		APIKeyEnv: "OPENAI_API_KEY", Models: []string{"gpt-4o", "gpt-4o-mini"}}}}
	cfg.SetDefaults()
	db, err := store.Open(filepath.Join(tb.TempDir(), "tokens.db"),
		store.Options{HashKey: []byte("bench-hash-key-0123456789abcdef0123"), LockTimeout: time.Second})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	tok, _, err := db.Create([]byte(policy), nil)
	require.NoError(tb, err)
	lim, err := limits.NewMemory(limits.MemoryOptions{})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = lim.Close() })
	s, err := New(Options{Config: cfg, Tokens: db, Hasher: db.Hasher(), Limiter: lim,
		Getenv: func(k string) string {
			if k == "OPENAI_API_KEY" {
				return testProviderKey
			}
			return ""
		}})
	require.NoError(tb, err)
	return s, tok, lim
}

// spent reads a token's own budget counter.
func spent(tb testing.TB, s *Server, lim limits.Limiter, tok string) (used, reserved int64) {
	tb.Helper()
	e := s.tokens.get(s.hasher.AppendHash(nil, []byte(tok)))
	require.NotNil(tb, e)
	used, reserved, err := lim.Spent(tb.Context(), e.hash, "")
	require.NoError(tb, err)
	return used, reserved
}
