package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// centralPair is a central server and two proxies synced from it.
type centralPair struct {
	fake       *fakeupstream.Server
	centralDir string
	centralURL string
	central    *proc
	proxyDirs  []string
	proxyPorts []int
	proxies    []*proc
	env        []string
}

// startCentralPair starts a central server pushing to two proxies (webhook
// true) or not (then the proxies poll every second).
func startCentralPair(t *testing.T, push bool, trustedKeys ...string) *centralPair {
	t.Helper()
	c := &centralPair{fake: startFake(t, fakeupstream.Options{}), env: proxyEnv()}
	cport := freePort(t)
	c.centralURL = fmt.Sprintf("http://127.0.0.1:%d", cport)
	c.proxyPorts = []int{freePort(t), freePort(t)}
	var hooks []string
	if push {
		for _, p := range c.proxyPorts {
			hooks = append(hooks, fmt.Sprintf("http://127.0.0.1:%d/v1/webhook", p))
		}
	}
	c.centralDir = newCentralDir(t, centralSetup{fakeURL: c.fake.URL(), webhooks: hooks})
	// No plugins.trusted_keys on this central server: it stores what is
	// signed by any key (development mode) and the proxies decide.
	c.central = startRemote(t, c.centralDir, cport, c.env, "--allow-unsigned-plugins")
	sync := 300
	if !push {
		sync = 1
	}
	for _, port := range c.proxyPorts {
		dir := newProxyDir(t, proxySetup{fakeURL: c.fake.URL(), port: port, extra: syncedProxy(c.centralURL, sync, push, trustedKeys...)})
		p := startServe(t, dir, port, c.env)
		pxNoRace(t, p)
		c.proxyDirs = append(c.proxyDirs, dir)
		c.proxies = append(c.proxies, p)
	}
	return c
}

func (c *centralPair) urls() []string {
	var out []string
	for _, p := range c.proxies {
		out = append(out, p.URL)
	}
	return out
}

// TestCentralPushAndRevoke: a token created with `token create` on the
// central machine works on both proxies within a second through push, an
// update and a delete reach both within a second, and forged, stale or
// replayed webhooks are refused.
func TestCentralPushAndRevoke(t *testing.T) {
	t.Parallel()
	c := startCentralPair(t, true)
	policy := `{"model_regex":"^gpt-4o","max_tokens":100000}`

	tok, hash := createToken(t, c.centralDir, c.env, policy, "--expires", "30d")
	created := waitAll(t, c.urls(), tok, "hello", 200, 5*time.Second)
	t.Logf("token create → usable on both proxies: %s", created)
	assert.Less(t, created, time.Second, "push must make a new token usable within a second")

	// The token command went through the running central server (discovery
	// file), which pushed the change; the proxies did not poll (sync: 300).
	res := run(t, c.centralDir, c.env, "token", "update", "--hash", tokenPrefix(hash), "--policy", `{"model_regex":"^gpt-4o-mini$"}`)
	require.Equal(t, 0, res.code, res.stderr)
	updated := waitAll(t, c.urls(), tok, "hello", 403, 5*time.Second)
	t.Logf("token update → applied on both proxies: %s", updated)
	assert.Less(t, updated, time.Second)

	start := time.Now()
	res = run(t, c.centralDir, c.env, "token", "delete", "--hash", tokenPrefix(hash))
	require.Equal(t, 0, res.code, res.stderr)
	cmdDone := time.Since(start)
	refused := waitAll(t, c.urls(), tok, "hello", 401, 5*time.Second)
	t.Logf("token delete → refused on both proxies: %s after the command returned (%s including the command's own run)",
		refused, refused+cmdDone)
	assert.Less(t, refused, time.Second, "a revocation must reach every proxy within a second")

	t.Run("webhook", func(t *testing.T) {
		hook := c.proxies[0].URL + "/v1/webhook"
		good := events.Credentials{Secret: centralSecret, SigningKey: centralSigning, Direction: events.DirPush}
		post := func(d webhookDelivery) int {
			req, err := http.NewRequest("POST", hook, strings.NewReader(string(d.body)))
			require.NoError(t, err)
			for k, v := range d.headers {
				req.Header.Set(k, v)
			}
			resp, err := centralClient.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return resp.StatusCode
		}
		valid := newWebhookDelivery(t, good, time.Now())
		tests := []struct {
			name string
			d    webhookDelivery
			want int
		}{
			{name: "valid", d: valid, want: 202},
			{name: "replayed", d: valid, want: 409},
			{name: "forged signature", d: newWebhookDelivery(t, events.Credentials{Secret: centralSecret, SigningKey: "forged", Direction: events.DirPush}, time.Now()), want: 401},
			{name: "wrong secret", d: newWebhookDelivery(t, events.Credentials{Secret: "guess", SigningKey: centralSigning, Direction: events.DirPush}, time.Now()), want: 401},
			{name: "stale", d: newWebhookDelivery(t, good, time.Now().Add(-10*time.Minute)), want: 401},
			{name: "unsigned", d: webhookDelivery{body: []byte(`{"id":"abc","type":"token.deleted"}`), headers: map[string]string{}}, want: 401},
			{name: "timestamp moved", d: func() webhookDelivery {
				d := newWebhookDelivery(t, good, time.Now())
				d.headers[events.HeaderTimestamp] = strconv.FormatInt(time.Now().Unix()+2, 10)
				return d
			}(), want: 401},
		}
		for _, tc := range tests { // in order: "replayed" follows "valid"
			assert.Equal(t, tc.want, post(tc.d), tc.name)
		}
		assert.Contains(t, c.proxies[0].Logs(), "webhook rejected")
	})
}

type webhookDelivery struct {
	body    []byte
	headers map[string]string
}

func newWebhookDelivery(t *testing.T, creds events.Credentials, at time.Time) webhookDelivery {
	t.Helper()
	ev, err := events.New(events.TokenCreated, events.SourceCentral, 1, nil)
	require.NoError(t, err)
	body, err := json.Marshal(ev)
	require.NoError(t, err)
	d := webhookDelivery{body: body, headers: map[string]string{}}
	events.SignHeaders(func(k, v string) { d.headers[k] = v }, creds, ev.ID, at, body)
	return d
}

// TestCentralPollFallback: with no webhooks the proxies catch up by
// polling (remote.sync: 1).
func TestCentralPollFallback(t *testing.T) {
	t.Parallel()
	c := startCentralPair(t, false)
	tok, hash := createToken(t, c.centralDir, c.env, `{"model_regex":"^gpt-4o","max_tokens":100000}`)
	took := waitAll(t, c.urls(), tok, "hello", 200, 10*time.Second)
	t.Logf("poll: token usable on both proxies after %s", took)
	res := run(t, c.centralDir, c.env, "token", "delete", "--hash", tokenPrefix(hash))
	require.Equal(t, 0, res.code, res.stderr)
	took = waitAll(t, c.urls(), tok, "hello", 401, 10*time.Second)
	t.Logf("poll: token refused on both proxies after %s", took)
}

// TestCentralDownRestart: a proxy restarted while the central server is
// down serves its synced copy; once the central server is back, a
// revocation made meanwhile applies.
func TestCentralDownRestart(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv()
	cport, pport := freePort(t), freePort(t)
	centralURL := fmt.Sprintf("http://127.0.0.1:%d", cport)
	cdir := newCentralDir(t, centralSetup{fakeURL: fake.URL(), webhooks: []string{fmt.Sprintf("http://127.0.0.1:%d/v1/webhook", pport)}})
	central := startRemote(t, cdir, cport, env)
	tok, hash := createToken(t, cdir, env, `{"model_regex":"^gpt-4o","max_tokens":100000}`)

	pdir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: pport, extra: syncedProxy(centralURL, 1, true)})
	p := startServe(t, pdir, pport, env)
	require.Equal(t, 200, chatStatus(t, p.URL, tok, "hello"))
	p.Stop(t)
	central.Stop(t)

	p = startServe(t, pdir, pport, env)
	pxNoRace(t, p)
	assert.Equal(t, 200, chatStatus(t, p.URL, tok, "hello"), "the synced copy serves while the central server is down")
	assert.Contains(t, p.Logs(), "serving the local copy")

	// The central server comes back; the revocation applies.
	startRemote(t, cdir, cport, env)
	res := run(t, cdir, env, "token", "delete", "--hash", tokenPrefix(hash))
	require.Equal(t, 0, res.code, res.stderr)
	took := waitAll(t, []string{p.URL}, tok, "hello", 401, 10*time.Second)
	t.Logf("revocation applied %s after the central server came back", took)
}
