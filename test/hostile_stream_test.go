package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

// TestHostileStreamedOutput: hostile plugins on output-scope mask and fail
// rules with the default on_error, on a streamed answer through a real
// proxy: the stream never carries a huge delta (a character that became
// 100 KB before the host's caps), never the plugin's cause, and ends in an
// error rather than in the answer checked by nobody.
func TestHostileStreamedOutput(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
		extra: "  dir: ./plugins\n  call_timeout: 200ms\n  init_timeout: 500ms\n  memory_pages: 512\n"})
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "plugins"), 0o755))
	byName := map[string][]byte{}
	for _, c := range hostile.Cases() {
		byName[c.Name] = c.Wasm
	}
	names := []string{"huge_replacement", "many_replacements", "trap", "loop_call", "grow", "span_out_of_range", "huge_reason", "error_result", "loop_initialize"}
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "plugins", n+".wasm"), byName[n], 0o644))
	}
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	for _, n := range names {
		for _, action := range []string{"mask", "fail"} {
			pol := `{"model_regex":"^gpt-4o","max_tokens":1000000,"rules":[{"name":"out-` + action + `","type":"wasm","plugin":"` + n +
				`","sha256":"` + manifest.Sum(byName[n]) + `","action":"` + action + `","scope":"output"}]}`
			tok, _ := createToken(t, dir, env, pol)
			status, lines := pxStream(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", "tell me a story about a secret", true, ""))
			all := ""
			for _, l := range lines {
				assert.Less(t, len(l.data), 8<<10, "%s/%s: a %d-byte SSE line", n, action, len(l.data))
				all += l.data + "\n"
			}
			for _, leak := range []string{"panic", "goroutine", "wasm", "stack trace", strings.Repeat("x", 200)} {
				assert.NotContains(t, all, leak, "%s/%s", n, action)
			}
			if status == 200 {
				require.NotEmpty(t, lines, "%s/%s", n, action)
				assert.Contains(t, lines[len(lines)-1].data, "content_policy_violation", "%s/%s: the stream ends in an error", n, action)
				if n == "many_replacements" && action == "fail" {
					continue // its empty matches block a fail rule before any cap matters
				}
				assert.Contains(t, all, "could not check", "%s/%s: a stream cut by a failed rule says so: %s", n, action, all)
				assert.NotEqual(t, "[DONE]", lines[len(lines)-1].data, "%s/%s: the stream must not end as if complete", n, action)
			} else {
				assert.Equal(t, 403, status, "%s/%s", n, action)
			}
		}
	}
	p.Stop(t)
}
