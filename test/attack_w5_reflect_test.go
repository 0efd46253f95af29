package test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// w5Captured is one delivery a capture endpoint received.
type w5Captured struct {
	path   string
	header http.Header
	body   []byte
}

// w5Capture records every POST, answering 202 as a receiver would.
type w5Capture struct {
	mu   sync.Mutex
	got  []w5Captured
	srv  *httptest.Server
	seen chan struct{}
}

func newW5Capture(t *testing.T) *w5Capture {
	c := &w5Capture{seen: make(chan struct{}, 64)}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.got = append(c.got, w5Captured{path: r.URL.Path, header: r.Header.Clone(), body: b})
		c.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		select {
		case c.seen <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// wait returns the first captured delivery on path whose body has typ.
func (c *w5Capture) wait(t *testing.T, path, typ string) w5Captured {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		c.mu.Lock()
		for _, d := range c.got {
			if d.path == path && bytes.Contains(d.body, []byte(`"type":"`+typ+`"`)) {
				c.mu.Unlock()
				return d
			}
		}
		c.mu.Unlock()
		select {
		case <-c.seen:
		case <-deadline:
			t.Fatalf("no %s delivery on %s within 60s", typ, path)
		}
	}
}

// replay posts a captured delivery, headers and body as they were, to url.
func (d w5Captured) replay(t *testing.T, url string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.body))
	require.NoError(t, err)
	for _, k := range []string{"Content-Type", events.HeaderEventID, events.HeaderTimestamp, events.HeaderSignature, events.HeaderSecret} {
		req.Header.Set(k, d.header.Get(k))
	}
	resp, err := centralClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestAttackW5WebhookReflection runs the user's distributed-team configs
// (one webhook secret and signing key on both sides) with the real
// binaries, with the deliveries of each direction also sent to a capture
// endpoint an attacker might read: a central push (token.created) replayed
// to central's own event inbox, and a proxy's event (server.start)
// replayed to the proxy's push receiver, are refused; the same captured
// deliveries sent the way they were meant are accepted, so the example
// still works unchanged.
func TestAttackW5WebhookReflection(t *testing.T) {
	t.Parallel()
	capture := newW5Capture(t)
	fake := startFake(t, fakeupstream.Options{})
	dir := seedDir(t)
	cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	require.NoError(t, err)
	cfg = bytes.Replace(cfg, []byte("https://proxy.internal:8443/v1/webhook"), []byte(capture.srv.URL+"/push"), 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yaml"), cfg, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(providersYAML(fake.URL())), 0o600))
	const key = "change-me-to-match-remote-server"
	env := append(proxyEnv(), "TOKENOMICS_REMOTE_KEY="+key)

	cport := freePort(t)
	centralURL := fmt.Sprintf("http://127.0.0.1:%d", cport)
	central := startProc(t, dir, env, centralURL, "/health", "remote", "--addr", fmt.Sprintf("127.0.0.1:%d", cport), "--api-key", key)
	pxNoRace(t, central)

	pdir := t.TempDir()
	pcfg, err := os.ReadFile("testdata/compat/proxy-config.yaml")
	require.NoError(t, err)
	pcfg = bytes.Replace(pcfg, []byte("http://localhost:9090/webhook"), []byte(capture.srv.URL+"/report"), 1)
	require.NoError(t, os.WriteFile(filepath.Join(pdir, "config.yaml"), pcfg, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(pdir, "providers.yaml"), []byte(providersYAML(fake.URL())), 0o600))
	hport, sport := freePort(t), freePort(t)
	penv := append(append([]string{}, env...),
		fmt.Sprintf("TOKENOMICS_SERVER_HTTP_PORT=%d", hport),
		fmt.Sprintf("TOKENOMICS_SERVER_HTTPS_PORT=%d", sport),
		"TOKENOMICS_REMOTE_URL="+centralURL)
	p := startServe(t, pdir, hport, penv)
	pxNoRace(t, p)

	res := run(t, dir, env, "token", "create", "--policy", `{"model_regex":"^gpt-4o","max_tokens":1000}`)
	require.Equal(t, 0, res.code, res.stderr)
	push := capture.wait(t, "/push", events.TokenCreated)
	report := capture.wait(t, "/report", events.ServerStart)
	require.True(t, strings.HasPrefix(push.header.Get(events.HeaderSignature), "v1="))

	assert.Equal(t, http.StatusUnauthorized, push.replay(t, centralURL+"/webhook"),
		"a captured central push was accepted by central's own event inbox")
	assert.Equal(t, http.StatusUnauthorized, report.replay(t, p.URL+"/v1/webhook"),
		"a captured proxy event was accepted by the proxy's push receiver")

	// The same deliveries, the way they were meant: accepted.
	assert.Equal(t, http.StatusAccepted, push.replay(t, p.URL+"/v1/webhook"), "a central push to the proxy")
	assert.Equal(t, http.StatusAccepted, report.replay(t, centralURL+"/webhook"), "a proxy event to central")
	assert.Contains(t, central.Logs()+p.Logs(), "webhook rejected")
}
