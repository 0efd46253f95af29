package test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// pxWaitStatus polls a chat call until it answers want, up to limit, and
// returns how long that took after since.
func pxWaitStatus(t *testing.T, url, tok, model string, want int, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	var last pxResp
	for time.Since(since) < limit {
		last = pxPost(t, url+"/v1/chat/completions", tok, pxChat(model, "live change", false, ""))
		if last.status == want {
			return time.Since(since)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("still %d (want %d) %v after the change: %s", last.status, want, limit, last.body)
	return 0
}

// TestProxyTokenChangesWhileServing: token commands run beside a serving
// proxy go through its admin endpoint and apply at once: a new token works,
// a policy change applies and a deleted token is refused, each within a
// second of the command returning.
func TestProxyTokenChangesWhileServing(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	other, _ := px.token(t, `{"model_regex":"^gpt-4o"}`)
	// One second to apply, plus what a round trip costs on this machine
	// right now, so a loaded box (or a -race build) does not fail it.
	t0 := time.Now()
	require.Equal(t, 200, pxPost(t, px.url+"/v1/chat/completions", other, pxChat("gpt-4o", "rtt", false, "")).status)
	limit := time.Second + 2*time.Since(t0)

	tok, hash := px.token(t, `{"model_regex":"^gpt-4o","max_tokens":10000}`)
	created := time.Now()
	d := pxWaitStatus(t, px.url, tok, "gpt-4o", 200, created, limit)
	t.Logf("created token served %v after token create returned", d)

	res := run(t, px.dir, px.env, "token", "update", "--hash", hash[:16], "--policy", `{"model_regex":"^claude"}`)
	require.Equal(t, 0, res.code, res.stderr)
	updated := time.Now()
	d = pxWaitStatus(t, px.url, tok, "gpt-4o", 403, updated, limit)
	t.Logf("policy update applied %v after token update returned", d)
	r := pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("claude-sonnet-4-6", "now claude", false, ""))
	assert.Equal(t, 200, r.status, string(r.body))

	res = run(t, px.dir, px.env, "token", "delete", "--hash", hash[:16])
	require.Equal(t, 0, res.code, res.stderr)
	deleted := time.Now()
	d = pxWaitStatus(t, px.url, tok, "claude-sonnet-4-6", 401, deleted, limit)
	t.Logf("deleted token refused %v after token delete returned", d)
	r = pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("claude-sonnet-4-6", "gone", false, ""))
	require.Equal(t, 401, r.status)
	code, _, _ := pxOpenAIError(t, r.body)
	assert.Equal(t, "invalid_api_key", code)
}

// TestProxyGracefulShutdown: SIGTERM while a stream is in flight lets it
// finish with [DONE], refuses new work, exits 0, and the stream's usage
// survives the restart.
func TestProxyGracefulShutdown(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := proxyEnv()
	tok, _ := createToken(t, dir, env, `{"max_tokens":100000}`)
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)

	body := pxChat("gpt-4o", "drain me gently please [[fake:slow=100ms]]", true, "")
	req, err := http.NewRequest("POST", p.URL+"/v1/chat/completions", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := pxClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	sc := bufio.NewScanner(resp.Body)
	var data []string
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = append(data, d)
			break
		}
	}
	require.Len(t, data, 1, "first chunk before the signal")

	// A plain request in flight at the signal is answered too.
	plain := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", p.URL+"/v1/chat/completions",
			strings.NewReader(pxChat("gpt-4o", "plain in flight [[fake:slow=600ms]]", false, "")))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := pxClient.Do(req)
		if err != nil {
			plain <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		plain <- resp.StatusCode
	}()
	// Both in flight before the signal; how long the requests take to
	// reach the upstream on a loaded machine is not what this test is about.
	require.Eventually(t, func() bool { return fake.Active() == 2 }, loadedDeadline, 5*time.Millisecond)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()

	// New work is refused while the stream drains: /ready stops answering
	// 200 once serve has handled the signal. Polled, not slept on: on a
	// loaded machine the signal can take longer than any fixed pause to be
	// handled. A proxy that has already exited (the stream drained first)
	// refuses the connection, which is not ready either.
	for deadline := time.Now().Add(loadedDeadline); ; time.Sleep(10 * time.Millisecond) {
		r, err := http.Get(p.URL + "/ready")
		if err != nil {
			break
		}
		_ = r.Body.Close()
		if r.StatusCode != 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/ready still answers 200 %s after SIGTERM while the stream drains", loadedDeadline)
		}
	}

	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = append(data, d)
		}
	}
	require.NoError(t, sc.Err())
	assert.Greater(t, len(data), 5)
	assert.Equal(t, "[DONE]", data[len(data)-1], "the in-flight stream completes")
	t.Logf("stream finished %v after SIGTERM", time.Since(signalled))

	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("proxy still running 10s after SIGTERM:\n%s", p.Logs())
	}
	assert.Equal(t, 0, p.cmd.ProcessState.ExitCode(), p.Logs())

	assert.Equal(t, 200, <-plain, "the request in flight at SIGTERM is answered")
	var want int64
	for _, up := range fake.Requests() {
		want += pxPredictTotal(t, up)
	}
	p2 := startServe(t, dir, port, env)
	pxNoRace(t, p2)
	b := pxUsage(t, p2.URL, tok)
	assert.Equal(t, want, b.Used, "usage settled during the drain is kept across a restart")
	assert.Zero(t, b.Reserved)
	p2.Stop(t)
}
