package test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

// TestHostileStandaloneTrustedKeys: with plugins.trusted_keys set, a
// standalone proxy loads a local plugin only with a manifest signed by a
// trusted key; an unsigned one, one signed by another key and one whose
// manifest names another plugin are refused (the token answers 500, never
// served without its rule).
func TestHostileStandaloneTrustedKeys(t *testing.T) {
	t.Parallel()
	op := t.TempDir()
	trusted := keygen(t, op, "signing.key")
	keygen(t, op, "rogue.key")
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
		extra: "  dir: ./plugins\n  trusted_keys: [\"" + trusted + "\"]\n"})
	plugDir := filepath.Join(dir, "plugins")
	require.NoError(t, os.MkdirAll(plugDir, 0o755))
	wasm := hostile.Allow()
	sha := manifest.Sum(wasm)
	for _, name := range []string{"signed", "unsigned", "rogue", "renamed"} {
		require.NoError(t, os.WriteFile(filepath.Join(plugDir, name+".wasm"), wasm, 0o644))
	}
	sign := func(file, key, name string) {
		res := run(t, op, nil, "plugin", "sign", filepath.Join(plugDir, file), "--key", key, "--name", name, "--version", "1.0.0")
		require.Equal(t, 0, res.code, res.stderr)
	}
	sign("signed.wasm", "signing.key", "signed")
	sign("rogue.wasm", "rogue.key", "rogue")
	sign("renamed.wasm", "signing.key", "signed") // a valid signature for another name

	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	for _, tc := range []struct {
		plugin string
		status int
	}{{"signed", 200}, {"unsigned", 500}, {"rogue", 500}, {"renamed", 500}} {
		tok, _ := createToken(t, dir, env, hostilePolicy(tc.plugin, sha, "mask"))
		r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", "hello", false, ""))
		assert.Equal(t, tc.status, r.status, "%s: %s", tc.plugin, r.body)
	}
	assert.Contains(t, p.Logs(), "signed manifest is missing")
}
