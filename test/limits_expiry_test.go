package test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

var expiresLine = regexp.MustCompile(`expires (\S+)\)`)

// TestLimitsExpiry: expiry is checked at every request, on every endpoint,
// whether the token was created with it or updated to it while the proxy
// runs; nothing is forwarded once it has passed.
func TestLimitsExpiry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		update bool // expiry set by token update on the running proxy
	}{
		{name: "created with expiry"},
		{name: "updated to expire", update: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := startCountingFake(t, fakeupstream.Options{})
			port := freePort(t)
			dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
			env := limitsEnv()
			const pol = `{"max_tokens":100000}`
			var tok, hash string
			var expires time.Time
			if tc.update {
				tok, hash = createToken(t, dir, env, pol)
			} else {
				// Whole seconds: the store keeps RFC 3339 seconds.
				expires = time.Now().Add(4 * time.Second).Truncate(time.Second)
				tok, hash = createToken(t, dir, env, pol, "--expires", expires.UTC().Format(time.RFC3339))
			}
			p := startServe(t, dir, port, env)
			c := limClient(4)

			r := limChat(c, p.URL, tok, "gpt-4o", "hello", 5)
			require.Equal(t, 200, r.Status, "before expiry: %s", r.Body)

			if tc.update {
				expires = time.Now().Add(2 * time.Second).Truncate(time.Second)
				res := run(t, dir, env, "token", "update", "--hash", hash[:12], "--expires", expires.UTC().Format(time.RFC3339))
				require.Equal(t, 0, res.code, "token update: %s", res.stderr)
				m := expiresLine.FindStringSubmatch(res.stdout)
				require.NotNil(t, m, res.stdout)
				got, err := time.Parse(time.RFC3339, m[1])
				require.NoError(t, err)
				require.True(t, got.Equal(expires), "stored expiry %s, asked %s", got, expires)
			}
			// Requests keep passing until the expiry...
			for time.Until(expires) > 300*time.Millisecond {
				r := limChat(c, p.URL, tok, "gpt-4o", "hello", 5)
				require.Equal(t, 200, r.Status, "%s before expiry: %s", time.Until(expires), r.Body)
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(time.Until(expires) + 50*time.Millisecond)
			seen := fake.total.Load()

			// ...and none after it, whatever the endpoint.
			calls := []struct {
				name, path, body string
			}{
				{"chat", "/v1/chat/completions", limChatJSON("gpt-4o", "hello", 5, false)},
				{"chat stream", "/v1/chat/completions", limChatJSON("gpt-4o", "hello", 5, true)},
				{"messages", "/v1/messages", `{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hello"}]}`},
				{"embeddings", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"hello"}`},
				{"completions", "/v1/completions", `{"model":"gpt-3.5-turbo-instruct","prompt":"hello","max_tokens":5}`},
				{"responses", "/v1/responses", `{"model":"gpt-4o","input":"hello","max_output_tokens":16}`},
			}
			for _, call := range calls {
				r := limPost(c, p.URL+call.path, tok, call.body)
				require.NoError(t, r.Err)
				assert.Equal(t, 401, r.Status, "%s after expiry: %s", call.name, r.Body)
				assert.Equal(t, "token_expired", r.Code(), "%s after expiry", call.name)
			}
			for _, path := range []string{"/v1/usage", "/v1/models"} {
				req, err := http.NewRequest(http.MethodGet, p.URL+path, nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := c.Do(req)
				require.NoError(t, err)
				_ = resp.Body.Close()
				assert.Equal(t, 401, resp.StatusCode, "GET %s after expiry", path)
			}
			assert.Equal(t, seen, fake.total.Load(), "an expired token's request reached the upstream")
			if tc.update {
				// Lifting the expiry applies at once too.
				res := run(t, dir, env, "token", "update", "--hash", hash[:12], "--expires", "clear")
				require.Equal(t, 0, res.code, "token update: %s", res.stderr)
				r := limChat(c, p.URL, tok, "gpt-4o", "hello", 5)
				assert.Equal(t, 200, r.Status, "after clearing the expiry: %s", r.Body)
			}
			p.Stop(t)
		})
	}
}
