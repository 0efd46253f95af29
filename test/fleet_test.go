package test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

// fleetStatus reads GET /api/v1/fleet from the central server.
func fleetStatus(t *testing.T, centralURL string) fleet.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := fleet.NewClient(centralURL, centralKey, centralClient).Status(ctx)
	require.NoError(t, err)
	return st
}

// waitFleet polls the fleet until ok holds for it and returns how long
// that took; it fails after limit.
func waitFleet(t *testing.T, centralURL string, limit time.Duration, ok func(fleet.Status) bool) (fleet.Status, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		st := fleetStatus(t, centralURL)
		if ok(st) {
			return st, time.Since(start)
		}
		if time.Since(start) > limit {
			b, _ := json.Marshal(st)
			t.Fatalf("after %s the fleet is still %s", limit, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// allAt holds when n proxies report revision rev and ready.
func allAt(n int, rev uint64) func(fleet.Status) bool {
	return func(st fleet.Status) bool {
		if len(st.Proxies) != n || st.Revision != rev {
			return false
		}
		for _, p := range st.Proxies {
			if p.Revision != rev || p.Lag != 0 || !p.Ready {
				return false
			}
		}
		return true
	}
}

// signPush signs wasm as name@version with signing.key in op and pushes it.
func signPush(t *testing.T, op, centralURL, file, name, version string, wasm []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(op, file), wasm, 0o644))
	res := run(t, op, nil, "plugin", "sign", file, "--key", "signing.key", "--name", name, "--version", version)
	require.Equal(t, 0, res.code, res.stderr)
	res = run(t, op, nil, "plugin", "push", file, "--remote", centralURL, "--api-key", centralKey)
	require.Equal(t, 0, res.code, res.stderr)
}

// TestFleetStatus: two proxies report to the central server at start and
// after each sync; GET /api/v1/fleet and `plugin status` show per proxy the
// plugin version it runs and how many tokens use it, and a revocation's
// application shows within about a second.
func TestFleetStatus(t *testing.T) {
	t.Parallel()
	op := t.TempDir()
	trusted := keygen(t, op, "signing.key")
	c := startCentralPair(t, true, trusted)

	wasm := hostile.AllowTagged("fleet-1")
	sha := manifest.Sum(wasm)
	signPush(t, op, c.centralURL, "guard.wasm", "fleet-guard", "1.0.0", wasm)
	tok, _ := createToken(t, c.centralDir, c.env, hostilePolicy("fleet-guard", sha, "mask"))
	createToken(t, c.centralDir, c.env, hostilePolicy("fleet-guard", sha, "fail"))
	victim, hash := createToken(t, c.centralDir, c.env, `{"model_regex":"^gpt-4o","max_tokens":100000}`)
	waitAll(t, c.urls(), tok, "hello", 200, 10*time.Second)
	waitAll(t, c.urls(), victim, "hello", 200, 5*time.Second)

	rev := fleetStatus(t, c.centralURL).Revision
	st, _ := waitFleet(t, c.centralURL, 20*time.Second, func(st fleet.Status) bool {
		if !allAt(2, rev)(st) {
			return false
		}
		for _, p := range st.Proxies {
			if len(p.Plugins) != 1 || p.Plugins[0].State != fleet.StateActive {
				return false
			}
		}
		return true
	})
	seen := map[string]bool{}
	for i, p := range st.Proxies {
		seen[p.Instance] = true
		assert.NotEmpty(t, p.Name)
		assert.NotEmpty(t, p.Version)
		assert.WithinDuration(t, time.Now(), p.LastContact, time.Minute)
		assert.Equal(t, fleet.Plugin{Name: "fleet-guard", Version: "1.0.0", SHA256: sha, Tokens: 2, State: fleet.StateActive}, p.Plugins[0], "proxy %d", i)
	}
	for _, dir := range c.proxyDirs {
		id, err := os.ReadFile(filepath.Join(dir, "tokenomics.proxy.db.instance"))
		require.NoError(t, err)
		assert.True(t, seen[strings.TrimSpace(string(id))], "the report names the proxy's stable instance id")
	}

	// A revocation: refused by both proxies, and visible in the fleet
	// (every proxy at the new revision) about a second after the command.
	res := run(t, c.centralDir, c.env, "token", "delete", "--hash", tokenPrefix(hash))
	require.Equal(t, 0, res.code, res.stderr)
	cmdEnd := time.Now()
	waitAll(t, c.urls(), victim, "hello", 401, 5*time.Second)
	waitFleet(t, c.centralURL, 10*time.Second, allAt(2, rev+1))
	took := time.Since(cmdEnd)
	t.Logf("token delete → both proxies report the new revision: %s", took)
	assert.Less(t, took, 2*time.Second, "a revocation's application shows in the fleet within about a second")

	// The command: one line per proxy and plugin, or the same JSON.
	res = run(t, op, nil, "plugin", "status", "--remote", c.centralURL, "--api-key", centralKey)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "Central revision")
	assert.Equal(t, 2, strings.Count(res.stdout, "fleet-guard"), res.stdout)
	assert.Contains(t, res.stdout, "1.0.0")
	assert.Contains(t, res.stdout, sha[:12])
	res = run(t, op, nil, "plugin", "status", "--json", "--remote", c.centralURL, "--api-key", centralKey)
	require.Equal(t, 0, res.code, res.stderr)
	var js fleet.Status
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &js), res.stdout)
	assert.Len(t, js.Proxies, 2)

	// The fleet is behind the API key like the rest of /api/.
	resp, err := centralClient.Get(c.centralURL + "/api/v1/fleet")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	res = run(t, op, nil, "plugin", "status", "--remote", c.centralURL, "--api-key", "wrong")
	assert.NotEqual(t, 0, res.code)
	assert.Contains(t, res.stderr, "401")
}
