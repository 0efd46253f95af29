package test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gzipOf compresses n bytes made of unit repeated.
func gzipOf(t *testing.T, unit string, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	require.NoError(t, err)
	chunk := []byte(strings.Repeat(unit, (64<<10)/len(unit)))
	for w := 0; w < n; w += len(chunk) {
		_, err := zw.Write(chunk)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// peakRSS is the process's high-water resident set, in bytes (Linux).
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// TestSecurityDecompressionBomb: an upstream answers with a small gzip body
// that expands to 128 MiB. The proxy stops decoding at
// server.max_response_bytes (8 MiB here), answers 502 (or ends the stream
// with an error), relays at most the limit, and its peak RSS stays far
// below the expanded size.
func TestSecurityDecompressionBomb(t *testing.T) {
	t.Parallel()
	const expanded = 128 << 20
	body := gzipOf(t, "\x00", expanded)
	chunk := `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"bomb "}}]}` + "\n\n"
	stream := gzipOf(t, chunk, expanded)
	t.Logf("bombs: body %d KiB, stream %d KiB, each expanding to %d MiB", len(body)>>10, len(stream)>>10, expanded>>20)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Encoding", "gzip")
		if bytes.Contains(req, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write(stream)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	bombURL := "http://" + ln.Addr().String()

	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: bombURL, port: port})
	cfg, err := os.ReadFile(dir + "/config.yaml")
	require.NoError(t, err)
	cfgS := strings.Replace(string(cfg), "server:\n", "server:\n  max_response_bytes: 8388608\n", 1)
	require.NoError(t, os.WriteFile(dir+"/config.yaml", []byte(cfgS), 0o600))
	env := proxyEnv()
	tok, _ := createToken(t, dir, env, `{"max_tokens": 1000000}`)
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	pid := p.cmd.Process.Pid
	before := peakRSS(t, pid)

	r := pxPost(t, p.URL+"/v1/chat/completions", tok, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	assert.Equal(t, 502, r.status, "%.200s", r.body)
	code, _, _ := pxOpenAIError(t, r.body)
	assert.Equal(t, "upstream_bad_body", code)

	req, err := http.NewRequest("POST", p.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	relayed, _ := io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	assert.Less(t, relayed, int64(16<<20), "the stream is cut near the limit, not relayed whole")
	assert.Greater(t, relayed, int64(1<<20), "the stream relayed what fit before the cut")

	grew := peakRSS(t, pid) - before
	t.Logf("peak RSS %d MiB before, grew by %d MiB; stream relayed %d MiB", before>>20, grew>>20, relayed>>20)
	assert.Less(t, grew, int64(64<<20), "peak RSS must stay bounded (the bombs expand to %d MiB)", expanded>>20)
}
