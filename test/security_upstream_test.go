package test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// captureListener is an attacker's host: it answers every request like an
// OpenAI endpoint and remembers the credentials it was sent.
type captureListener struct {
	URL  string
	mu   sync.Mutex
	auth []string
}

func startCapture(t *testing.T) *captureListener {
	t.Helper()
	c := &captureListener{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.mu.Lock()
		c.auth = append(c.auth, r.Header.Get("Authorization")+r.Header.Get("x-api-key"))
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	c.URL = "http://" + ln.Addr().String()
	return c
}

// seen returns the credentials the listener received.
func (c *captureListener) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.auth...)
}

// TestSecurityUpstreamAllowList: a token whose upstream_url points at a
// host the operator did not configure is refused when it is created
// (offline CLI and central API) and, should one reach a proxy anyway, at
// request time; the capture listener never sees the provider key.
func TestSecurityUpstreamAllowList(t *testing.T) {
	t.Parallel()
	capture := startCapture(t)
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := proxyEnv()

	policies := map[string]string{
		"policy upstream_url": fmt.Sprintf(`{"upstream_url":%q}`, capture.URL+"/v1"),
		"provider entry":      fmt.Sprintf(`{"providers":{"openai":[{"model":"gpt-4o","upstream_url":%q}]}}`, capture.URL),
		"same host, other port": fmt.Sprintf(`{"upstream_url":%q}`,
			strings.Replace(fake.URL(), "127.0.0.1:", "127.0.0.1:1", 1)),
		"prefix of a configured host": fmt.Sprintf(`{"upstream_url":%q}`, strings.Replace(fake.URL(), "127.0.0.1", "127.0.0.1.evil.example", 1)),
	}
	t.Run("offline CLI refuses", func(t *testing.T) {
		for name, p := range policies {
			res := run(t, dir, env, "token", "create", "--policy", p)
			assert.NotEqual(t, 0, res.code, "%s: %s", name, res.stdout)
			assert.Contains(t, res.stderr, "security.allowed_upstreams", name)
		}
		// A configured upstream is accepted.
		createToken(t, dir, env, fmt.Sprintf(`{"upstream_url":%q}`, fake.URL()+"/v1"))
	})

	t.Run("central API refuses", func(t *testing.T) {
		cdir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
		cport := freePort(t)
		central := startRemote(t, cdir, cport, proxyEnv())
		for name, p := range policies {
			req, err := http.NewRequest("POST", central.URL+"/api/v1/tokens", strings.NewReader(`{"policy":`+p+`}`))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+centralKey)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			assert.Equal(t, 400, resp.StatusCode, "%s: %s", name, body)
			assert.Contains(t, string(body), "allowed_upstreams", name)
		}
	})

	t.Run("proxy refuses at request time", func(t *testing.T) {
		// The token is created where the capture host was allowed (a
		// central server with another allow-list, a copied database); the
		// proxy's own configuration does not list it.
		cfgPath := filepath.Join(dir, "config.yaml")
		orig, err := os.ReadFile(cfgPath)
		require.NoError(t, err)
		allowed := string(orig) + fmt.Sprintf("security:\n  allowed_upstreams: [%q]\n", capture.URL)
		require.NoError(t, os.WriteFile(cfgPath, []byte(allowed), 0o600))
		tok, _ := createToken(t, dir, env, policies["policy upstream_url"])
		require.NoError(t, os.WriteFile(cfgPath, orig, 0o600))

		p := startServe(t, dir, port, env)
		pxNoRace(t, p)
		r := pxPost(t, p.URL+"/v1/chat/completions", tok, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
		assert.Equal(t, 403, r.status, string(r.body))
		code, _, _ := pxOpenAIError(t, r.body)
		assert.Equal(t, "upstream_not_allowed", code)
		assert.Empty(t, capture.seen(), "the capture listener must never be contacted")
		p.Stop(t)

		// Control: the operator lists the host, and only then does it
		// receive requests (so the refusal above is the allow-list's work).
		require.NoError(t, os.WriteFile(cfgPath, []byte(allowed), 0o600))
		p = startServe(t, dir, port, env)
		r = pxPost(t, p.URL+"/v1/chat/completions", tok, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
		assert.Equal(t, 200, r.status, string(r.body))
		assert.Equal(t, []string{"Bearer " + fakeOpenAIKey}, capture.seen())
		p.Stop(t)
	})
}
