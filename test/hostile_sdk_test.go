package test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestHostileSDKGuestProxy: a plugin built with the Go SDK (`plugin build`)
// that loops, grows its memory to the cap, panics, exits, reports an error
// or returns a span out of range, behind mask and fail rules with the
// default on_error in a real proxy: every request is refused with the
// generic reason (no panic text), a token without plugins keeps its
// latency, and the process stays up with bounded memory and stops on
// SIGTERM.
func TestHostileSDKGuestProxy(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
		extra: "  dir: ./plugins\n  call_timeout: 200ms\n  memory_pages: 512\n  pool_size: 2\n"})
	plugDir := filepath.Join(dir, "plugins")
	require.NoError(t, os.MkdirAll(plugDir, 0o755))
	guest, err := filepath.Abs("../core/rules/testdata/guests/behave")
	require.NoError(t, err)
	res := run(t, dir, goEnv(t), "plugin", "build", guest, "-o", filepath.Join(plugDir, "behave.wasm"))
	require.Equal(t, 0, res.code, res.stderr)
	wasm, err := os.ReadFile(filepath.Join(plugDir, "behave.wasm"))
	require.NoError(t, err)
	sha := manifest.Sum(wasm)

	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	good, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":1000000}`)
	type sdkToken struct{ mode, action, tok string }
	var toks []sdkToken
	for _, mode := range []string{"loop", "grow", "panic", "exit", "error", "badspan"} {
		for _, action := range []string{"mask", "fail"} {
			pol := `{"model_regex":"^gpt-4o","max_tokens":1000000,"rules":[{"name":"guard-` + action + `","type":"wasm","plugin":"behave","sha256":"` +
				sha + `","action":"` + action + `","config":{"mode":"` + mode + `"}}]}`
			tok, _ := createToken(t, dir, env, pol)
			toks = append(toks, sdkToken{mode, action, tok})
		}
	}
	// The module is shared by every token; the first request waits for its
	// first load (bounded), so later ones meet the guest's own behaviour.
	r := pxPost(t, p.URL+"/v1/chat/completions", toks[0].tok, pxChat("gpt-4o", "warm", false, ""))
	require.Equal(t, 403, r.status, string(r.body))

	stop := make(chan struct{})
	base := goodLatencies(t, p.URL, good, stop)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	baseline := base()
	require.NotEmpty(t, baseline)

	stop = make(chan struct{})
	during := goodLatencies(t, p.URL, good, stop)
	for round := 0; round < 2; round++ {
		for _, h := range toks {
			r := pxPost(t, p.URL+"/v1/chat/completions", h.tok, pxChat("gpt-4o", "hello world, a secret", false, ""))
			require.Equal(t, 403, r.status, "%s/%s: %s", h.mode, h.action, r.body)
			code, _, msg := pxOpenAIError(t, r.body)
			assert.Equal(t, "content_policy_violation", code)
			assert.Contains(t, msg, "could not check this text", "%s/%s", h.mode, h.action)
			assert.Contains(t, msg, "request id", "%s/%s", h.mode, h.action)
			for _, leak := range []string{"panic", "boom", "goroutine", "wasm", "stack", "exit", "\n"} {
				assert.NotContains(t, msg, leak, "%s/%s leaks the cause to the client", h.mode, h.action)
			}
		}
	}
	close(stop)
	loaded := during()
	require.NotEmpty(t, loaded)
	p50 := func(l []time.Duration) time.Duration { return l[len(l)/2] }
	t.Logf("good token p50: %s alone, %s beside the hostile SDK guest (n=%d)", p50(baseline), p50(loaded), len(loaded))
	assert.Less(t, p50(loaded), 200*time.Millisecond+4*p50(baseline))
	for _, r := range fake.Requests() {
		assert.NotContains(t, string(r.Body), "a secret", "a hostile-guarded request reached the provider")
	}

	rss := procRSS(t, p)
	t.Logf("proxy RSS after the SDK guest suite: %d MiB", rss>>20)
	assert.Less(t, rss, int64(1<<30), "resident memory stays bounded")
	logs := p.Logs()
	assert.Contains(t, logs, "content rule could not run")
	for _, cause := range []string{"panicked", "deadline", "out of range"} {
		assert.Contains(t, logs, cause, "the operator gets the cause")
	}

	start := time.Now()
	p.Stop(t)
	t.Logf("SIGTERM → exit: %s", time.Since(start))
	assert.Less(t, time.Since(start), 10*time.Second, "shutdown_timeout is 5s")
}
