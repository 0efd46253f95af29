package test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurityCentralRefusesPluginsWithoutTrustedKeys: a central server
// with no plugins.trusted_keys refuses every plugin upload (whoever holds
// the API key could otherwise take a plugin name with their own key),
// unless started with --allow-unsigned-plugins for development.
func TestSecurityCentralRefusesPluginsWithoutTrustedKeys(t *testing.T) {
	t.Parallel()
	op := t.TempDir()
	keygen(t, op, "rogue.key")
	wasm, err := os.ReadFile("../plugins/dist/builtin.wasm")
	if err != nil {
		t.Skipf("built-in plugins not built (make plugins): %v", err)
	}
	require.NoError(t, os.WriteFile(filepath.Join(op, "p.wasm"), wasm, 0o644))
	res := run(t, op, nil, "plugin", "sign", "p.wasm", "--key", "rogue.key", "--name", "pii", "--version", "99.0.0")
	require.Equal(t, 0, res.code, res.stderr)

	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"default refuses", nil, false},
		{"development flag accepts", []string{"--allow-unsigned-plugins"}, true},
	} {
		dir := newCentralDir(t, centralSetup{fakeURL: "http://127.0.0.1:9"})
		port := freePort(t)
		central := startRemote(t, dir, port, proxyEnv(), tc.args...)
		res := run(t, op, []string{"TOKENOMICS_REMOTE_KEY=" + centralKey}, "plugin", "push", "p.wasm", "--remote", central.URL)
		if tc.ok {
			assert.Equal(t, 0, res.code, "%s: %s", tc.name, res.stderr)
			continue
		}
		assert.NotEqual(t, 0, res.code, tc.name)
		assert.Contains(t, res.stderr, "trusted_keys", tc.name)
		res = run(t, op, []string{"TOKENOMICS_REMOTE_KEY=" + centralKey}, "plugin", "list", "--remote", central.URL)
		require.Equal(t, 0, res.code, res.stderr)
		assert.NotContains(t, res.stdout, "99.0.0")
	}
}
