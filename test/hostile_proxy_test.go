package test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

// hostilePolicy names one plugin in a rule with the given action and the
// default on_error.
func hostilePolicy(plugin, sha, action string) string {
	return `{"model_regex":"^gpt-4o","max_tokens":1000000,"rules":[{"name":"guard-` + action + `","type":"wasm","plugin":"` +
		plugin + `","sha256":"` + sha + `","action":"` + action + `"}]}`
}

// procRSS is the resident set of a running process, in bytes.
func procRSS(t *testing.T, p *proc) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// goodLatencies hammers tok until stop closes and returns each request's
// latency; every answer must be 200.
func goodLatencies(t *testing.T, url, tok string, stop <-chan struct{}) func() []time.Duration {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			r := pxPost(t, url+"/v1/chat/completions", tok, pxChat("gpt-4o", "hello there", false, ""))
			d := time.Since(start)
			assert.Equal(t, 200, r.status, "a token without the hostile plugin: %s", r.body)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() []time.Duration {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		slices.Sort(lat)
		return lat
	}
}

// TestHostilePluginsProxy runs every hostile module behind mask and fail
// rules with the default on_error in a real proxy: each request is refused
// with a generic reason and the request id, the cause reaches the log, the
// metrics and /ready, a token without plugins keeps its latency, and the
// process stays up with bounded memory and stops on SIGTERM.
func TestHostilePluginsProxy(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
		extra: "  dir: ./plugins\n  call_timeout: 200ms\n  init_timeout: 500ms\n  memory_pages: 512\n"})
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "plugins"), 0o755))
	cases := hostile.Cases()
	for _, c := range cases {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "plugins", c.Name+".wasm"), c.Wasm, 0o644))
	}
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	good, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":1000000}`)

	type hostileToken struct{ name, action, tok string }
	var toks []hostileToken
	for _, c := range cases {
		for _, action := range []string{"mask", "fail"} {
			tok, _ := createToken(t, dir, env, hostilePolicy(c.Name, manifest.Sum(c.Wasm), action))
			toks = append(toks, hostileToken{c.Name, action, tok})
		}
	}
	// Baseline of the good token alone.
	stop := make(chan struct{})
	base := goodLatencies(t, p.URL, good, stop)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	baseline := base()
	require.NotEmpty(t, baseline)

	stop = make(chan struct{})
	during := goodLatencies(t, p.URL, good, stop)
	for round := 0; round < 2; round++ { // the second round hits warm, recycled or failed pools
		for _, h := range toks {
			r := pxPost(t, p.URL+"/v1/chat/completions", h.tok, pxChat("gpt-4o", "hello world, a secret", false, ""))
			require.Equal(t, 403, r.status, "%s/%s: %s", h.name, h.action, r.body)
			code, _, msg := pxOpenAIError(t, r.body)
			assert.Equal(t, "content_policy_violation", code)
			if h.name == "many_replacements" && h.action == "fail" {
				continue // its matches block a fail rule before any cap matters
			}
			assert.Contains(t, msg, "could not check this text", "%s/%s", h.name, h.action)
			assert.Contains(t, msg, "request id", "%s/%s", h.name, h.action)
			for _, leak := range []string{"panic", "goroutine", "wasm", "stack", "\n"} {
				assert.NotContains(t, msg, leak, "%s/%s leaks the cause to the client", h.name, h.action)
			}
			assert.LessOrEqual(t, len(msg), 400)
		}
	}
	close(stop)
	loaded := during()
	require.NotEmpty(t, loaded)
	p50 := func(l []time.Duration) time.Duration { return l[len(l)/2] }
	t.Logf("good token p50: %s alone, %s beside the hostile plugins (n=%d, max %s)", p50(baseline), p50(loaded), len(loaded), loaded[len(loaded)-1])
	// Generous on a shared 2-core machine: the good token never waits on a
	// plugin, so it stays far below a plugin deadline.
	assert.Less(t, p50(loaded), 200*time.Millisecond+4*p50(baseline))

	rss := procRSS(t, p)
	t.Logf("proxy RSS after the hostile suite: %d MiB", rss>>20)
	assert.Less(t, rss, int64(1<<30), "resident memory stays bounded")

	logs := p.Logs()
	assert.Contains(t, logs, "content rule could not run")
	assert.Contains(t, logs, "huge_reason")
	assert.NotContains(t, logs, "goroutine 1 [running]", "the log gets the first line of a cause only")

	resp, err := http.Get(p.URL + "/ready")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "a hostile plugin does not take the proxy out of rotation")
	for _, c := range cases {
		if c.LoadFails {
			assert.Contains(t, string(body), `"name":"`+c.Name+`"`, "/ready lists the plugin that failed to load")
		}
	}
	resp, err = http.Get(p.URL + "/metrics")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Contains(t, string(body), `tokenomics_rule_errors_total{plugin="trap",rule="guard-mask"}`)
	assert.Contains(t, string(body), `tokenomics_rule_call_seconds_bucket{plugin="trap",rule="guard-fail"`)

	start := time.Now()
	p.Stop(t)
	t.Logf("SIGTERM → exit: %s", time.Since(start))
	assert.Less(t, time.Since(start), 10*time.Second, "shutdown_timeout is 5s")
}

// TestHostileSlowPluginUnderLoad: a slow plugin (pool of one) with eight
// concurrent clients: they queue for the instance within pool_wait instead
// of failing at once, none is waved through, and a token without the
// plugin keeps its latency meanwhile.
func TestHostileSlowPluginUnderLoad(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
		extra: "  dir: ./plugins\n  pool_size: 1\n  call_timeout: 10s\n  pool_wait: 60s\n"})
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "plugins"), 0o755))
	slow := hostile.Slow(3_000_000) // about 0.3 s a call: eight clients queue for seconds
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugins", "slow.wasm"), slow, 0o644))
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	tok, _ := createToken(t, dir, env, hostilePolicy("slow", manifest.Sum(slow), "mask"))
	// Warm: the first request waits for the module to load.
	require.Eventually(t, func() bool {
		return pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", "warm", false, "")).status == 200
	}, 30*time.Second, 100*time.Millisecond)
	good, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":1000000}`)
	stop := make(chan struct{})
	base := goodLatencies(t, p.URL, good, stop)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	baseline := base()
	require.NotEmpty(t, baseline)

	stop = make(chan struct{})
	during := goodLatencies(t, p.URL, good, stop)
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	slowStart := time.Now()
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", "hello "+strconv.Itoa(i), false, "")).status
		}()
	}
	wg.Wait()
	slowTook := time.Since(slowStart)
	close(stop)
	loaded := during()
	for i, s := range statuses {
		assert.Equal(t, 200, s, "client %d", i)
	}
	require.NotEmpty(t, loaded)
	p50 := func(l []time.Duration) time.Duration { return l[len(l)/2] }
	t.Logf("eight clients on the slow plugin: %s; good token p50 %s alone, %s meanwhile (n=%d)",
		slowTook, p50(baseline), p50(loaded), len(loaded))
	// The good token never queues for the slow plugin's instance: far
	// below the time the eight slow clients take together.
	assert.Less(t, p50(loaded), 200*time.Millisecond+4*p50(baseline))
}

// TestHostileMaskedBodyCap: replacements within the host's caps that would
// make the request body larger than server.max_body_bytes block the
// request instead of sending it upstream.
func TestHostileMaskedBodyCap(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port, extra: "  dir: ./plugins\n"})
	cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	require.NoError(t, err)
	cfg = []byte(strings.Replace(string(cfg), "server:\n", "server:\n  max_body_bytes: 600\n", 1))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yaml"), cfg, 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "plugins"), 0o755))
	wasm := hostile.Replace1000()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugins", "big.wasm"), wasm, 0o644))
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	tok, _ := createToken(t, dir, env, hostilePolicy("big", manifest.Sum(wasm), "mask"))
	r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", "hello world", false, ""))
	require.Equal(t, 403, r.status, string(r.body))
	_, _, msg := pxOpenAIError(t, r.body)
	assert.Contains(t, msg, "could not check this text")
	require.Eventually(t, func() bool { return strings.Contains(p.Logs(), "exceeds server.max_body_bytes") },
		10*time.Second, 20*time.Millisecond, "the cause reaches the log")
	assert.Empty(t, fake.Requests(), "nothing reached the provider")
}

// TestHostileOverlappingMasks: a plugin whose masks overlap ([0,5), [2,8)
// and [1,3)) has them merged by the host into one edit before the request
// goes upstream: the provider sees one replacement, no bytes of the span.
func TestHostileOverlappingMasks(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port, extra: "  dir: ./plugins\n"})
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "plugins"), 0o755))
	wasm := hostile.Overlapping()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugins", "overlap.wasm"), wasm, 0o644))
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	tok, _ := createToken(t, dir, env, hostilePolicy("overlap", manifest.Sum(wasm), "mask"))
	r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", "hello world, a secret", false, ""))
	require.Equal(t, 200, r.status, string(r.body))
	last, ok := fake.LastRequest()
	require.True(t, ok)
	var body struct {
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	require.NoError(t, last.JSON(&body))
	require.Len(t, body.Messages, 1)
	assert.Equal(t, "[REDACTED:w]rld, a secret", body.Messages[0].Content)
}
