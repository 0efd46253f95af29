package test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCentralSeedSteps follows SEED.txt with its files unchanged: tokens
// created offline (step 3), `remote --addr … --api-key "$TOKENOMICS_REMOTE_KEY"`
// (step 4), the "Managing Tokens" commands typed as written while remote
// runs, and `serve` with proxy-config.yaml in the same directory (step 5).
// Only ports and the central URL are moved by environment overrides, since
// the test cannot own :9090, :8080 and :8443 or resolve config-server.
func TestCentralSeedSteps(t *testing.T) {
	t.Parallel()
	dir := seedDir(t)
	const key = "change-me-to-match-remote-server" // proxy-config.yaml's remote.api_key
	env := []string{hashKeyEnv, "TOKENOMICS_REMOTE_KEY=" + key}

	// Step 3, offline.
	tok, hash := createToken(t, dir, env, readPolicy(t, "developer"), "--expires", "90d")
	_, other := createToken(t, dir, env, readPolicy(t, "contractor"), "--expires", "30d")

	// Step 4.
	cport := freePort(t)
	central := startProc(t, dir, env, fmt.Sprintf("http://127.0.0.1:%d", cport), "/health",
		"remote", "--addr", fmt.Sprintf(":%d", cport), "--api-key", key)
	pxNoRace(t, central)

	// "Managing Tokens", exactly as written, while remote holds the database.
	res := run(t, dir, env, "token", "list")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, hash[:12])
	res = run(t, dir, env, "token", "get", "--hash", tokenPrefix(hash))
	require.Equal(t, 0, res.code, res.stderr)
	res = run(t, dir, env, "token", "update", "--hash", tokenPrefix(hash), "--expires", "180d")
	require.Equal(t, 0, res.code, res.stderr)
	res = run(t, dir, env, "token", "update", "--hash", tokenPrefix(hash), "--policy", `{"max_tokens": 100000}`)
	require.Equal(t, 0, res.code, res.stderr)
	res = run(t, dir, env, "token", "delete", "--hash", tokenPrefix(other))
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, central.Logs(), "local admin listening")

	// Step 5: the proxy config replaces config.yaml in the same directory.
	copyFile(t, "testdata/compat/proxy-config.yaml", dir, "config.yaml")
	hport, sport := freePort(t), freePort(t)
	penv := append(env,
		fmt.Sprintf("TOKENOMICS_SERVER_HTTP_PORT=%d", hport),
		fmt.Sprintf("TOKENOMICS_SERVER_HTTPS_PORT=%d", sport),
		fmt.Sprintf("TOKENOMICS_REMOTE_URL=http://127.0.0.1:%d", cport))
	p := startServe(t, dir, hport, penv)
	pxNoRace(t, p)
	_, err := os.Stat(filepath.Join(dir, "tokenomics.proxy.db"))
	require.NoError(t, err, "the proxy keeps its synced copy beside, not in, the central database")

	models := func(tok string) int {
		req, err := http.NewRequest("GET", p.URL+"/v1/models", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := centralClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 200, models(tok), "a token made in step 3 works on the proxy")

	// On the proxy machine the same commands go to remote.url (here through
	// the environment override) and the change reaches the proxy by poll;
	// SEED's central pushes to https://proxy.internal, which does not exist here.
	res = run(t, dir, penv, "token", "list")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, hash[:12])
	assert.NotContains(t, res.stdout, other[:12], "the token deleted in Managing Tokens is gone")
	res = run(t, dir, penv, "token", "delete", "--hash", tokenPrefix(hash))
	require.Equal(t, 0, res.code, res.stderr)
	// The proxy config polls every 300 s; a restart pulls at once.
	p.Stop(t)
	p = startServe(t, dir, hport, penv)
	deadline := time.Now().Add(10 * time.Second)
	for models(tok) != 401 {
		require.True(t, time.Now().Before(deadline), "the revoked token still works after a restart")
		time.Sleep(20 * time.Millisecond)
	}
	assert.False(t, strings.Contains(p.Logs(), "panic"))
}
