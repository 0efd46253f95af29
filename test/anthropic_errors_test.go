package test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestAnthropicPathErrors sends every error cause to every Anthropic path
// (messages and count_tokens, each with and without /v1) and requires
// Anthropic's error shape with the status and type its SDKs map to their
// error classes: refusals raised before routing (auth, rate, budget, rule
// blocks), transport-level ones (413 for sized and chunked bodies, 405),
// parse errors, and what providers answer (a rejected key, an overload, a
// body that is not JSON). count_tokens generates nothing, so rate windows and
// budgets do not refuse it: those cells expect a count instead.
func TestAnthropicPathErrors(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "", "TOKENOMICS_SERVER_MAX_BODY_BYTES=4096")
	const allowed = `"model_regex":"^claude-(sonnet|haiku)"`
	tok, _ := px.token(t, `{`+allowed+`,"max_tokens":100000}`)
	broke, _ := px.token(t, `{`+allowed+`,"max_tokens":1}`)
	rated, _ := px.token(t, `{`+allowed+`,"max_tokens":100000,"rate_limit":{"rules":[{"requests":1,"window":"1h"}]}}`)
	guarded, _ := px.token(t, `{`+allowed+`,"max_tokens":100000,"rules":[{"name":"no-mail","type":"pii","detect":["email"],"action":"block","scope":"input"}]}`)
	// The rated token's one request of the hour.
	first := pxDo(t, "POST", px.url+"/v1/messages", anthMsg("claude-haiku-4-5", "hi", true), "x-api-key", rated, "anthropic-version", "2023-06-01")
	require.Equal(t, 200, first.status, string(first.body))

	type cause struct {
		name, method, body, tok string
		chunked                 bool
		status                  int
		typ                     string
		countOK                 bool // count_tokens answers a count instead
		messagesOnly            bool // a scripted generation: count_tokens takes no script
	}
	big := strings.Repeat("a", 6000)
	causes := []cause{
		{name: "no token", status: 401, typ: "authentication_error"},
		{name: "unknown token", tok: "tkn_" + strings.Repeat("Q", 43), status: 401, typ: "authentication_error"},
		{name: "model not allowed", tok: tok, body: "model:claude-opus-4-6", status: 403, typ: "permission_error"},
		{name: "rate limited", tok: rated, status: 429, typ: "rate_limit_error"}, // a forwarded count takes a request slot
		{name: "budget exhausted", tok: broke, status: 429, typ: "rate_limit_error", countOK: true},
		{name: "rule block", tok: guarded, body: "text:write to jane@example.com", status: 403, typ: "permission_error"},
		{name: "invalid json", tok: tok, body: "raw:{", status: 400, typ: "invalid_request_error"},
		{name: "get", method: "GET", tok: tok, status: 405, typ: "invalid_request_error"},
		{name: "body too large", tok: tok, body: "text:" + big, status: 413, typ: "request_too_large"},
		{name: "chunked body too large", tok: tok, body: "text:" + big, chunked: true, status: 413, typ: "request_too_large"},
		{name: "provider rejects the key", tok: tok, body: "text:hello [[fake:401]]", status: 502, typ: "api_error"},
		{name: "provider overloaded", tok: tok, body: "text:hello [[fake:529]]", status: 529, typ: "overloaded_error"},
		{name: "provider answers html", tok: tok, body: "model:claude-sonnet-4-6", status: 502, typ: "api_error", messagesOnly: true},
	}
	// The html answer, once for each messages path.
	for range 2 {
		require.NoError(t, px.fake.Script(fakeupstream.Scripted{Model: "claude-sonnet-4-6", Status: 502, Body: "<html>bad gateway</html>"}))
	}
	paths := []struct {
		path  string
		count bool
	}{{"/v1/messages", false}, {"/messages", false}, {"/v1/messages/count_tokens", true}, {"/messages/count_tokens", true}}
	for _, p := range paths {
		for _, c := range causes {
			if c.messagesOnly && p.count {
				continue
			}
			t.Run(p.path+" "+c.name, func(t *testing.T) {
				t.Parallel()
				model, text := "claude-haiku-4-5", "hello"
				var body string
				switch {
				case strings.HasPrefix(c.body, "model:"):
					model = strings.TrimPrefix(c.body, "model:")
				case strings.HasPrefix(c.body, "text:"):
					text = strings.TrimPrefix(c.body, "text:")
				case strings.HasPrefix(c.body, "raw:"):
					body = strings.TrimPrefix(c.body, "raw:")
				}
				if body == "" {
					body = anthMsg(model, text, !p.count)
				}
				method := c.method
				if method == "" {
					method = "POST"
				}
				var rd io.Reader
				if method == "POST" {
					rd = strings.NewReader(body)
					if c.chunked {
						rd = io.NopCloser(rd) // no known length: Transfer-Encoding: chunked
					}
				}
				req, err := http.NewRequest(method, px.url+p.path, rd)
				require.NoError(t, err)
				req.Header.Set("anthropic-version", "2023-06-01")
				req.Header.Set("Content-Type", "application/json")
				if c.tok != "" {
					req.Header.Set("x-api-key", c.tok)
				}
				resp, err := pxClient.Do(req)
				require.NoError(t, err)
				got, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if c.chunked {
					require.Zero(t, req.ContentLength, "no length: net/http sends the body chunked")
				}
				if p.count && c.countOK {
					require.Equal(t, 200, resp.StatusCode, "count_tokens is not charged to budgets: %s", got)
					assert.Contains(t, string(got), `"input_tokens":`)
					return
				}
				require.Equal(t, c.status, resp.StatusCode, string(got))
				if c.name == "rate limited" {
					// The exact wait beside the rounded one (the AI SDK
					// follows only waits below 60 s).
					ms, err := strconv.Atoi(resp.Header.Get("Retry-After-Ms"))
					require.NoError(t, err, "Retry-After-Ms %q", resp.Header.Get("Retry-After-Ms"))
					secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
					require.NoError(t, err)
					assert.True(t, ms > 0 && ms <= secs*1000 && ms > (secs-1)*1000, "Retry-After-Ms %d, Retry-After %d", ms, secs)
				}
				typ, msg := sdkAnthropicError(t, got)
				assert.Equal(t, c.typ, typ, string(got))
				assert.NotEmpty(t, msg)
			})
		}
	}
	t.Run("unknown sub-path", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/v1/messages/batches", "/messages/nothing"} {
			r := pxDo(t, "POST", px.url+path, anthMsg("claude-haiku-4-5", "x", true), "x-api-key", tok, "anthropic-version", "2023-06-01")
			require.Equal(t, 404, r.status, string(r.body))
			typ, _ := sdkAnthropicError(t, r.body)
			assert.Equal(t, "not_found_error", typ)
		}
	})
}

// anthMsg is a messages body; count_tokens bodies carry no max_tokens.
func anthMsg(model, text string, withMax bool) string {
	b := `{"model":"` + model + `",`
	if withMax {
		b += `"max_tokens":16,`
	}
	return b + `"messages":[{"role":"user","content":"` + text + `"}]}`
}
