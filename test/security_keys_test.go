package test

import (
	"crypto/sha256"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// TestSecurityWeakKeysRefused: the seed's example values, short keys and
// low-variety passphrases are refused by every command that opens the
// database, with a message that shows how to generate a key and never
// repeats the value.
func TestSecurityWeakKeysRefused(t *testing.T) {
	t.Parallel()
	dir := newProxyDir(t, proxySetup{fakeURL: "http://127.0.0.1:9", port: freePort(t),
		extra: "security:\n  encryption_key_env: TOKENOMICS_ENCRYPTION_KEY\n"})
	good := "TOKENOMICS_ENCRYPTION_KEY=a long and varied passphrase 42"
	tests := []struct {
		name, env, secret string
	}{
		{"hash key placeholder", "TOKENOMICS_HASH_KEY=change-me-to-a-strong-random-string", "change-me-to-a-strong-random-string"},
		{"hash key too short", "TOKENOMICS_HASH_KEY=short-key", "short-key"},
		{"encryption placeholder", "TOKENOMICS_ENCRYPTION_KEY=change-me-another-strong-secret", "change-me-another-strong-secret"},
		{"encryption low variety", "TOKENOMICS_ENCRYPTION_KEY=passwordpassword", "passwordpassword"},
		{"encryption too short", "TOKENOMICS_ENCRYPTION_KEY=pass1234", "pass1234"},
	}
	for _, tc := range tests {
		env := []string{hashKeyEnv, good, tc.env}
		for _, args := range [][]string{{"token", "list"}, {"serve"}} {
			res := run(t, dir, env, args...)
			assert.NotEqual(t, 0, res.code, "%s: %v must refuse", tc.name, args)
			assert.Contains(t, res.stderr, "openssl rand -hex 32", "%s: %v", tc.name, args)
			assert.NotContains(t, res.stderr, tc.secret, "%s: the message must not repeat the secret", tc.name)
		}
	}
	res := run(t, dir, []string{hashKeyEnv, good}, "token", "list")
	assert.Equal(t, 0, res.code, "a good passphrase opens: %s", res.stderr)
}

// TestSecurityRekeyLegacyDatabase: a database from an older build (key =
// SHA-256 of the passphrase) keeps opening, says it should be rekeyed, and
// `tokenomics rekey` moves it to scrypt; `--new-key-env` rotates the key.
func TestSecurityRekeyLegacyDatabase(t *testing.T) {
	t.Parallel()
	const pass = "an old but long passphrase 2024"
	dir := newProxyDir(t, proxySetup{fakeURL: "http://127.0.0.1:9", port: freePort(t),
		extra: "security:\n  encryption_key_env: TOKENOMICS_ENCRYPTION_KEY\n"})
	sum := sha256.Sum256([]byte(pass))
	db, err := store.Open(filepath.Join(dir, "tokenomics.db"), store.Options{
		HashKey: []byte(strings.TrimPrefix(hashKeyEnv, "TOKENOMICS_HASH_KEY=")), EncryptionKey: sum[:]})
	require.NoError(t, err)
	_, rec, err := db.Create([]byte(`{"max_tokens":1234}`), nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	env := []string{hashKeyEnv, "TOKENOMICS_ENCRYPTION_KEY=" + pass}
	res := run(t, dir, env, "token", "list")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, rec.Hash[:12])
	assert.Contains(t, res.stderr, "tokenomics rekey", "a legacy database says how to upgrade")

	res = run(t, dir, env, "rekey")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "Re-sealed 1 records")
	assert.Contains(t, res.stdout, "scrypt")

	res = run(t, dir, env, "token", "get", "--hash", rec.Hash[:12])
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "1234")
	assert.NotContains(t, res.stderr, "tokenomics rekey")

	// Rotation to a raw key; the old passphrase no longer opens it.
	const newKey = "3b7f0c5e9a1d2f4b6c8e0a2c4e6f8a1b3d5f7a9c1e3b5d7f9a2c4e6b8d0f1a3c"
	res = run(t, dir, append(env, "TOKENOMICS_NEW_KEY="+newKey), "rekey", "--new-key-env", "TOKENOMICS_NEW_KEY")
	require.Equal(t, 0, res.code, res.stderr)
	res = run(t, dir, env, "token", "list")
	assert.NotEqual(t, 0, res.code, "the old passphrase must not open the rotated database")
	res = run(t, dir, []string{hashKeyEnv, "TOKENOMICS_ENCRYPTION_KEY=" + newKey}, "token", "list")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, rec.Hash[:12])
}
