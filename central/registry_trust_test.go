package central

import (
	"crypto/ed25519"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

func openTestRegistry(t *testing.T, trusted ...ed25519.PublicKey) *Registry {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "reg.db"), 0o600, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	reg, err := OpenRegistry(db, trusted, nil)
	require.NoError(t, err)
	return reg
}

func TestRegistryWithoutTrustedKeysRefusesUploads(t *testing.T) {
	t.Parallel()
	reg := openTestRegistry(t)
	reg.RequireTrustedKeys()
	wasm, env := signed(t, "guard", "1.0.0", "a", key(1))
	_, _, err := reg.Put(env, wasm)
	assert.ErrorIs(t, err, manifest.ErrUntrustedKey)
	assert.ErrorIs(t, err, ErrNoTrustedKeys)
	assert.Contains(t, err.Error(), "plugins.trusted_keys")
	l, err := reg.Changes(0)
	require.NoError(t, err)
	assert.Empty(t, l.Plugins)
}

// Without trusted keys (development), a rogue signer's high version of a
// name does not block the owner's versions; the owner's own ordering
// still holds.
func TestRegistryUntrustedUploadsDoNotOrderVersions(t *testing.T) {
	t.Parallel()
	reg := openTestRegistry(t)
	wasm, env := signed(t, "guard", "9.0.0", "rogue", key(2))
	_, _, err := reg.Put(env, wasm)
	require.NoError(t, err)
	wasm, env = signed(t, "guard", "1.0.0", "owner-1", key(1))
	_, created, err := reg.Put(env, wasm)
	require.NoError(t, err, "the rogue's 9.0.0 must not block the owner's 1.0.0")
	assert.True(t, created)
	wasm, env = signed(t, "guard", "0.9.0", "owner-0", key(1))
	_, _, err = reg.Put(env, wasm)
	assert.ErrorIs(t, err, manifest.ErrRollback, "the owner's own versions still only move forward")
}

// With trusted keys, an upload by another key is refused outright and so
// cannot take part in ordering.
func TestRegistryTrustedRefusesOthers(t *testing.T) {
	t.Parallel()
	reg := openTestRegistry(t, key(1).Public().(ed25519.PublicKey))
	reg.RequireTrustedKeys()
	wasm, env := signed(t, "guard", "9.0.0", "rogue", key(2))
	_, _, err := reg.Put(env, wasm)
	assert.ErrorIs(t, err, manifest.ErrUntrustedKey)
	wasm, env = signed(t, "guard", "1.0.0", "owner", key(1))
	_, created, err := reg.Put(env, wasm)
	require.NoError(t, err)
	assert.True(t, created)
}
