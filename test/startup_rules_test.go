package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestServeReadyBeforeRulesCompile: serve answers /ready while the rule
// plugins of its tokens still compile cold (an empty plugins.cache_dir),
// serves a token without rules meanwhile, and refuses the rule-heavy
// token's requests (503 rules_loading, Retry-After) until its rules
// loaded: none reaches the upstream unchecked. Afterwards the same request
// is checked and masked. plugins.load_wait is 1ms so a request is refused
// rather than held (TestRulesLoadWaitHolds in core/proxy covers holding).
func TestServeReadyBeforeRulesCompile(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{RecordLimit: 4096})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	text := strings.Replace(string(cfg), "cache_dir: "+wasmCacheDir(t), "cache_dir: ./cold-cache", 1)
	text = strings.Replace(text, "load_wait: "+harnessLoadWait, "load_wait: 1ms", 1)
	require.NotEqual(t, string(cfg), text)
	require.NoError(t, os.WriteFile(cfgPath, []byte(text), 0o600))

	env := proxyEnv()
	var pol map[string]any
	require.NoError(t, json.Unmarshal([]byte(readPolicy(t, "contractor")), &pol))
	require.Len(t, pol["rules"], 3)
	raw, err := json.Marshal(map[string]any{"model_regex": "^gpt-4o", "max_tokens": 10_000_000, "rules": pol["rules"]})
	require.NoError(t, err)
	ruled, _ := createToken(t, dir, env, string(raw))
	plain, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":10000000}`)

	// /health, not /ready: startServe would wait for the rules to load.
	p := startProc(t, dir, env, fmt.Sprintf("http://127.0.0.1:%d", port), "/health", "serve")
	pxNoRace(t, p)
	r := pxDo(t, "GET", p.URL+"/ready", "")
	require.Equal(t, 200, r.status, "%s", r.body)
	var ready struct {
		Status       string `json:"status"`
		Tokens       int    `json:"tokens"`
		RulesLoading *int   `json:"rules_loading"`
	}
	require.NoError(t, json.Unmarshal(r.body, &ready), "%s", r.body)
	assert.Equal(t, "ready", ready.Status)
	assert.Equal(t, 2, ready.Tokens)
	require.NotNil(t, ready.RulesLoading, "%s", r.body)
	// Compiling three plugins cold takes seconds; serve started listening
	// in milliseconds, so the rules are still loading here.
	assert.Positive(t, *ready.RulesLoading, "/ready waited for the rule plugins: %s", r.body)

	const email = "maria.keller@example.com"
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"mail ` + email + ` please"}]}`
	refused := 0
	for {
		r = pxPost(t, p.URL+"/v1/chat/completions", ruled, body)
		if r.status != 503 {
			break
		}
		refused++
		assert.Contains(t, string(r.body), `"code":"rules_loading"`)
		assert.Equal(t, "1", r.header.Get("Retry-After"))
		if refused == 1 {
			pr := pxPost(t, p.URL+"/v1/chat/completions", plain, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
			assert.Equal(t, 200, pr.status, "a token without rules is served while rules load: %s", pr.body)
		}
		for _, req := range fake.Requests() {
			require.NotContains(t, string(req.Body), email, "a request reached the upstream unchecked")
		}
		time.Sleep(50 * time.Millisecond)
	}
	assert.Positive(t, refused, "the rule token was served before its rules loaded")
	require.Equal(t, 200, r.status, "%s", r.body)
	last, ok := fake.LastRequest()
	require.True(t, ok)
	assert.NotContains(t, string(last.Body), email)
	assert.Contains(t, string(last.Body), "[REDACTED:email]")
	assert.Contains(t, p.Logs(), "content rules still loading; request refused")

	m := pxDo(t, "GET", p.URL+"/metrics", "")
	assert.Contains(t, string(m.body), "tokenomics_rule_sets_loading 0")
	assert.Contains(t, string(m.body), `tokenomics_refusals_total{code="rules_loading"}`)
}
