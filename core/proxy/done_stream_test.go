package proxy

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
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

// newRulesServer is newTestServer with a rules host over the built-in
// plugins make builds into plugins/dist.
func newRulesServer(tb testing.TB, upstream, policy string) (*Server, string) {
	tb.Helper()
	dist := filepath.Join("..", "..", "plugins", "dist")
	if _, err := os.Stat(filepath.Join(dist, "builtin.wasm")); err != nil {
		tb.Skip("plugins/dist/builtin.wasm is missing: run make plugins")
	}
	h := rules.New(rules.Config{Builtins: os.DirFS(dist), CallTimeout: 5 * time.Second, InitTimeout: time.Minute}, nil)
	require.NoError(tb, h.Provision(context.Background()))
	tb.Cleanup(func() { _ = h.Close(context.Background()) })
	cfg := &config.Config{Providers: []config.Provider{{Name: "openai", UpstreamURL: upstream,
		APIKeyEnv: "OPENAI_API_KEY", Models: []string{"gpt-4o"}}}}
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
	s, err := New(Options{Config: cfg, Tokens: db, Hasher: db.Hasher(), Limiter: lim, Rules: h,
		Getenv: func(k string) string { return testProviderKey }})
	require.NoError(tb, err)
	return s, tok
}

// sseUpstream serves body as a text/event-stream answer on loopback TCP.
func sseUpstream(tb testing.TB, body string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyString(body)
	}}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

// TestResponsesDoneEventsMasked: under an output mask rule, a native
// Responses stream never hands on a text the rules did not read: a text
// that only a .done event or response.completed carries is checked whole,
// and an event the proxy cannot read is dropped rather than relayed.
func TestResponsesDoneEventsMasked(t *testing.T) {
	t.Parallel()
	const ssn = "123-45-6789"
	const mask = `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"mask","scope":"output"}]}`
	const block = `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"block","scope":"output"}]}`
	doneOnly := `data: {"type":"response.created","response":{"output":[]}}

data: {"type":"response.output_item.done","output_index":0,"item":{"type":"message","content":[{"type":"output_text","text":"ssn ` + ssn + `"}]}}

data: {"type":"response.completed","response":{"output":[{"type":"message","content":[{"type":"output_text","text":"ssn ` + ssn + `"}]}],"usage":{"input_tokens":1,"output_tokens":2}}}

`
	cases := []struct{ name, policy, stream string }{
		{"text only in done events", mask, `data: {"type":"response.created","response":{"output":[]}}

data: {"type":"response.output_text.done","output_index":0,"content_index":0,"text":"ssn ` + ssn + `"}

data: {"type":"response.output_item.done","output_index":0,"item":{"type":"message","content":[{"type":"output_text","text":"ssn ` + ssn + `"}]}}

data: {"type":"response.completed","response":{"output":[{"type":"message","content":[{"type":"output_text","text":"ssn ` + ssn + `"}]},{"type":"function_call","arguments":"{\"a\":\"` + ssn + `\"}"}],"usage":{"input_tokens":1,"output_tokens":2}}}

`},
		{"unreadable event", mask, `data: {"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"ssn ` + ssn + `"

data: {"type":"response.completed","response":{"output":[],"usage":{"input_tokens":1,"output_tokens":2}}}

`},
		{"blocked text only in done events", block, doneOnly},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, tok := newRulesServer(t, sseUpstream(t, tc.stream), tc.policy)
			c := serveInMemory(t, s)
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("http://proxy/v1/responses")
			req.Header.SetMethod("POST")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.SetBodyString(`{"model":"gpt-4o","stream":true,"input":"hi"}`)
			// The rule plugin compiles in the background: until it is
			// ready the token is held, then refused (fail closed).
			deadline := time.Now().Add(2 * time.Minute)
			for {
				err := c.DoTimeout(req, resp, 10*time.Second)
				if errors.Is(err, fasthttp.ErrTimeout) && time.Now().Before(deadline) {
					continue // a cold compile under -race can hold the first calls
				}
				require.NoError(t, err)
				if (resp.StatusCode() != 500 && resp.StatusCode() != 503) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			require.Equal(t, 200, resp.StatusCode(), "%s", resp.Body())
			out := string(resp.Body())
			assert.NotContains(t, out, ssn)
			if tc.policy == block {
				assert.Contains(t, out, "content_policy_violation", "the stream ends in an error: %s", out)
				assert.NotContains(t, out, "response.completed", "nothing after the block: %s", out)
				return
			}
			assert.Contains(t, out, "response.completed", "the stream went on: %s", out)
			if strings.HasPrefix(tc.name, "text only") {
				assert.Equal(t, 4, strings.Count(out, "REDACTED"), "every repeat masked: %s", out)
			}
		})
	}
}
