package test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Shared secrets of the central-sync tests.
const (
	centralKey     = "central-e2e-api-key-0123456789"
	centralSecret  = "e2e-webhook-secret"
	centralSigning = "e2e-webhook-signing-key"
)

// centralSetup describes a central server's working directory.
type centralSetup struct {
	fakeURL  string
	webhooks []string // proxy webhook URLs pushed to
	events   string   // YAML list of event filters; default ["token.*", "plugin.*"]
}

// newCentralDir writes config.yaml and providers.yaml for `remote`.
func newCentralDir(t *testing.T, s centralSetup) string {
	t.Helper()
	dir := t.TempDir()
	filters := s.events
	if filters == "" {
		filters = `["token.*", "plugin.*"]`
	}
	var b strings.Builder
	fmt.Fprintf(&b, "storage:\n  db_path: ./tokenomics.db\nlogging:\n  level: debug\nmemory:\n  allowed_dirs: [\"./memory\", \"/var/log/tokenomics\"]\n")
	if len(s.webhooks) > 0 {
		b.WriteString("events:\n  webhooks:\n")
		for _, u := range s.webhooks {
			fmt.Fprintf(&b, "    - url: %s\n      secret: %s\n      signing_key: %s\n      events: %s\n      timeout: 5\n",
				u, centralSecret, centralSigning, filters)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(b.String()), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(providersYAML(s.fakeURL)), 0o600))
	return dir
}

// startRemote runs `tokenomics remote` on port and waits for /health.
func startRemote(t *testing.T, dir string, port int, env []string, args ...string) *proc {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	full := append([]string{"remote", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--api-key", centralKey}, args...)
	p := startProc(t, dir, env, url, "/health", full...)
	pxNoRace(t, p)
	return p
}

// syncedProxy is the config a proxy synced from centralURL gets appended:
// plugins.trusted_keys (continuing newProxyDir's plugins: block) and remote.
func syncedProxy(centralURL string, syncSeconds int, webhook bool, trustedKeys ...string) string {
	var b strings.Builder
	if len(trustedKeys) > 0 {
		fmt.Fprintf(&b, "  trusted_keys: [%q]\n", strings.Join(trustedKeys, `", "`))
	}
	fmt.Fprintf(&b, "remote:\n  url: %s\n  api_key: %s\n  sync: %d\n  webhook:\n    enabled: %t\n    path: /v1/webhook\n    secret: %s\n    signing_key: %s\n",
		centralURL, centralKey, syncSeconds, webhook, centralSecret, centralSigning)
	return b.String()
}

// centralClient is for probing proxies on loopback; its timeout is as
// generous as pxClient's so a loaded machine does not fail a probe (the
// waits that assert a latency measure it themselves).
var centralClient = &http.Client{Timeout: 30 * time.Second}

// chatStatus sends one chat completion with tok and returns the status.
func chatStatus(t *testing.T, proxyURL, tok, text string) int {
	t.Helper()
	body := fmt.Sprintf(`{"model":"gpt-4o","messages":[{"role":"user","content":%q}]}`, text)
	req, err := http.NewRequest("POST", proxyURL+"/v1/chat/completions", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := centralClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// loadedDeadline bounds a wait whose length the test does not assert (a
// plugin compiled, a change pushed before the test goes on): generous,
// because on a loaded 2-core machine (the whole suite under -race) such a
// step has taken tens of seconds. Waits that measure a number the product
// promises (a revocation within a second) assert it separately.
const loadedDeadline = 2 * time.Minute

// waitAll polls every proxy until the chat status is want on all of them
// and returns how long that took; it fails after limit.
func waitAll(t *testing.T, proxies []string, tok, text string, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	pending := map[string]int{}
	for _, p := range proxies {
		pending[p] = 0
	}
	for {
		for p := range pending {
			got := chatStatus(t, p, tok, text)
			if got == want {
				delete(pending, p)
			} else {
				pending[p] = got
			}
		}
		if len(pending) == 0 {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("after %s, proxies still answer %v, want %d", limit, pending, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tokenPrefix is the hash prefix SEED.txt's commands take.
func tokenPrefix(hash string) string { return hash[:12] }
