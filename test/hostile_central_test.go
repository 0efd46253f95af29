package test

import (
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

// TestHostileInitDuringRevocation: a signed plugin whose _initialize never
// returns is pushed through the central server and named by a token; while
// both proxies are loading it, a token revoked on the central server is
// refused by both within a second, the plugin's own token is refused (fail
// closed), and other tokens keep working.
func TestHostileInitDuringRevocation(t *testing.T) {
	t.Parallel()
	op := t.TempDir()
	trusted := keygen(t, op, "signing.key")
	c := startCentralPair(t, true, trusted)
	remote := []string{"--remote", c.centralURL, "--api-key", centralKey}
	policy := `{"model_regex":"^gpt-4o","max_tokens":100000}`
	victim, hash := createToken(t, c.centralDir, c.env, policy)
	other, _ := createToken(t, c.centralDir, c.env, policy)
	waitAll(t, c.urls(), victim, "hello", 200, 5*time.Second)

	var loop []byte
	for _, hc := range hostile.Cases() {
		if hc.Name == "loop_initialize" {
			loop = hc.Wasm
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(op, "looper.wasm"), loop, 0o644))
	res := run(t, op, nil, "plugin", "sign", "looper.wasm", "--key", "signing.key", "--name", "looper", "--version", "1.0.0")
	require.Equal(t, 0, res.code, res.stderr)
	res = run(t, op, nil, append([]string{"plugin", "push", "looper.wasm"}, remote...)...)
	require.Equal(t, 0, res.code, res.stderr)
	looperTok, _ := createToken(t, c.centralDir, c.env, hostilePolicy("looper", manifest.Sum(loop), "mask"))
	// Both proxies say (fleet report) they are loading it: its start
	// function runs up to init_timeout (2s), then again after a backoff.
	waitFleet(t, c.centralURL, 10*time.Second, func(st fleet.Status) bool {
		return looperState(st, 2) == fleet.StateLoading
	})

	// The proxies are now loading a module that loops in its start function
	// (retried with backoff): revocation must not wait for it.
	start := time.Now()
	res = run(t, c.centralDir, c.env, "token", "delete", "--hash", tokenPrefix(hash))
	require.Equal(t, 0, res.code, res.stderr)
	cmdDone := time.Since(start)
	refused := waitAll(t, c.urls(), victim, "hello", 401, 5*time.Second)
	t.Logf("token delete during a looping plugin load → refused on both proxies: %s after the command (%s with it)", refused, refused+cmdDone)
	assert.Less(t, refused, time.Second, "a revocation must reach every proxy within a second")

	waitAll(t, c.urls(), looperTok, "hello", 403, 10*time.Second)
	for i, p := range c.proxies {
		require.Eventually(t, func() bool {
			return strings.Contains(p.Logs(), "start function exceeded")
		}, 10*time.Second, 50*time.Millisecond, "proxy %d: the watchdog stops the looping start function", i)
	}
	waitAll(t, c.urls(), other, "hello", 200, 5*time.Second)
	// The fleet shows the failure on both, with a short cause.
	st, _ := waitFleet(t, c.centralURL, 20*time.Second, func(st fleet.Status) bool {
		return looperState(st, 2) == fleet.StateFailed
	})
	for _, p := range st.Proxies {
		for _, pl := range p.Plugins {
			assert.Contains(t, pl.Error, "start function", "proxy %s", p.Name)
			assert.Equal(t, 1, pl.Tokens)
		}
	}
	for i := range c.proxies {
		start := time.Now()
		c.proxies[i].Stop(t)
		assert.Less(t, time.Since(start), 10*time.Second, "proxy %d stops on SIGTERM", i)
	}
}

// looperState is the state every one of n proxies reports for the looper
// plugin, or "" while they differ or have not reported it.
func looperState(st fleet.Status, n int) string {
	if len(st.Proxies) != n {
		return ""
	}
	state := ""
	for _, p := range st.Proxies {
		if len(p.Plugins) != 1 || p.Plugins[0].Name != "looper" {
			return ""
		}
		if state != "" && p.Plugins[0].State != state {
			return ""
		}
		state = p.Plugins[0].State
	}
	return state
}
