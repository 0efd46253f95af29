package test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

// goEnv passes the go command's caches to a child process whose HOME is a
// temp dir, so `plugin build` neither rebuilds the standard library nor
// needs the network.
func goEnv(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOFLAGS").Output()
	require.NoError(t, err)
	v := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	require.Len(t, v, 5)
	return []string{"GOCACHE=" + v[0], "GOMODCACHE=" + v[1], "GOPATH=" + v[2], "GOPROXY=" + v[3], "GOFLAGS=" + v[4]}
}

// keygen runs `plugin keygen` in dir and returns the public key text.
func keygen(t *testing.T, dir, name string) string {
	t.Helper()
	res := run(t, dir, nil, "plugin", "keygen", "--out", name)
	require.Equal(t, 0, res.code, res.stderr)
	fi, err := os.Stat(filepath.Join(dir, name))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the private key is private")
	pub, err := os.ReadFile(filepath.Join(dir, name+".pub"))
	require.NoError(t, err)
	return strings.TrimSpace(string(pub))
}

func wasmPolicy(plugin, sha string) string {
	return `{"model_regex":"^gpt-4o","max_tokens":100000,"rules":[{"name":"no-codenames","type":"wasm","plugin":"` + plugin +
		`","sha256":"` + sha + `","action":"fail","scope":"both","config":{"codenames":["PROJECT-ORION"]}}]}`
}

// TestCentralPlugins: an operator builds, tests, signs and pushes the
// example plugin; both proxies load it without a restart (a token that
// named it before it existed starts working), while a plugin signed by an
// unknown key is refused by the proxies, and tampered or unsigned uploads
// are refused by the central server.
func TestCentralPlugins(t *testing.T) {
	t.Parallel()
	op := t.TempDir()
	trusted := keygen(t, op, "signing.key")
	keygen(t, op, "rogue.key")
	c := startCentralPair(t, true, trusted)
	remote := []string{"--remote", c.centralURL, "--api-key", centralKey}

	example, err := filepath.Abs("../examples/custom-plugin")
	require.NoError(t, err)
	res := run(t, op, goEnv(t), "plugin", "build", example, "-o", "orion.wasm")
	require.Equal(t, 0, res.code, res.stderr)
	wasm, err := os.ReadFile(filepath.Join(op, "orion.wasm"))
	require.NoError(t, err)
	sha := manifest.Sum(wasm)
	assert.Contains(t, res.stdout, sha)
	res = run(t, op, nil, "plugin", "test", "orion.wasm", "--cases", filepath.Join(example, "cases.yaml"))
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	assert.Contains(t, res.stdout, "0 failed")

	// A token that names the plugin before any proxy has it: refused
	// (fail closed), not served without its rule.
	tok, _ := createToken(t, c.centralDir, c.env, wasmPolicy("orion-guard", sha))
	waitAll(t, c.urls(), tok, "hello", 500, loadedDeadline)

	// A plugin signed by a key the proxies do not trust: the central server
	// (which has no trusted keys of its own) stores it; proxies refuse it.
	require.NoError(t, os.WriteFile(filepath.Join(op, "rogue.wasm"), wasm, 0o644))
	res = run(t, op, nil, "plugin", "sign", "rogue.wasm", "--key", "rogue.key", "--name", "rogue-guard", "--version", "1.0.0")
	require.Equal(t, 0, res.code, res.stderr)
	res = run(t, op, nil, append([]string{"plugin", "push", "rogue.wasm"}, remote...)...)
	require.Equal(t, 0, res.code, res.stderr)
	rogueTok, _ := createToken(t, c.centralDir, c.env, wasmPolicy("rogue-guard", sha))

	// Tampered and unsigned uploads never reach the registry.
	res = run(t, op, nil, "plugin", "sign", "orion.wasm", "--key", "signing.key", "--name", "orion-guard", "--version", "1.0.0")
	require.Equal(t, 0, res.code, res.stderr)
	env, err := os.ReadFile(filepath.Join(op, "orion.wasm.manifest.json"))
	require.NoError(t, err)
	tampered := append([]byte(nil), wasm...)
	tampered[len(tampered)/2] ^= 0x01
	require.NoError(t, os.WriteFile(filepath.Join(op, "tampered.wasm"), tampered, 0o644))
	res = run(t, op, nil, append([]string{"plugin", "push", "tampered.wasm", "--manifest", "orion.wasm.manifest.json"}, remote...)...)
	assert.NotEqual(t, 0, res.code, "push checks the binary against the manifest before uploading")
	client := manifest.NewClient(c.centralURL, centralKey, nil)
	// Each upload gets its own deadline: one context shared by the whole
	// test ran out on a loaded machine before the last upload (the steps
	// between them take tens of seconds there), and no step here asserts a
	// duration.
	upload := func(env, wasm []byte) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, err := client.Upload(ctx, env, wasm)
		return err
	}
	err = upload(env, tampered)
	assert.ErrorIs(t, err, manifest.ErrDigestMismatch, "the central server refuses a binary that does not match its manifest")
	var e manifest.Envelope
	require.NoError(t, json.Unmarshal(env, &e))
	e.Signatures = nil
	unsigned, err := json.Marshal(e)
	require.NoError(t, err)
	err = upload(unsigned, wasm)
	assert.ErrorIs(t, err, manifest.ErrUnsigned, "the central server refuses an unsigned manifest")

	// The signed plugin: pushed once, loaded by both proxies, no restart.
	res = run(t, op, nil, append([]string{"plugin", "push", "orion.wasm"}, remote...)...)
	require.Equal(t, 0, res.code, res.stderr)
	took := waitAll(t, c.urls(), tok, "Summarize the PROJECT-ORION plan", 403, loadedDeadline)
	t.Logf("plugin push → enforced on both proxies: %s (includes compiling the module)", took)
	waitAll(t, c.urls(), tok, "hello there", 200, loadedDeadline)

	res = run(t, op, nil, append([]string{"plugin", "list"}, remote...)...)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "orion-guard")
	assert.Contains(t, res.stdout, "rogue-guard")

	// The untrusted plugin stays refused everywhere.
	for i, p := range c.urls() {
		assert.Equal(t, 500, chatStatus(t, p, rogueTok, "hello"), "proxy %d serves a token whose plugin it refused", i)
		assert.Contains(t, c.proxies[i].Logs(), "plugin refused")
		assert.Contains(t, c.proxies[i].Logs(), "rogue-guard")
		entries, err := os.ReadDir(filepath.Join(c.proxyDirs[i], "plugins"))
		require.NoError(t, err)
		require.Len(t, entries, 1, "only the verified binary is on the proxy's disk")
		assert.Equal(t, sha+".wasm", entries[0].Name())
	}

	// A rollback to an older version is refused by the central server.
	res = run(t, op, nil, "plugin", "sign", "orion.wasm", "--key", "signing.key", "--name", "orion-guard", "--version", "0.9.0", "-o", "old.json")
	require.Equal(t, 0, res.code, res.stderr)
	old, err := os.ReadFile(filepath.Join(op, "old.json"))
	require.NoError(t, err)
	err = upload(old, wasm)
	var api *manifest.APIError
	require.True(t, errors.As(err, &api), "%v", err)
	assert.Equal(t, 409, api.Status)
}
