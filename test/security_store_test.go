package test

import (
	be "encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

const encKeyEnv = "TOKENOMICS_ENCRYPTION_KEY=9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7"

// TestSecurityUnsealedRecordRefused: someone with write access to an
// encrypted database plants a record in the clear (policy {}: no limits).
// The proxy refuses the planted token and says so in its log, and the
// genuine tokens keep working.
func TestSecurityUnsealedRecordRefused(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
		extra: "security:\n  encryption_key_env: TOKENOMICS_ENCRYPTION_KEY\n"})
	env := proxyEnv(encKeyEnv)
	good, _ := createToken(t, dir, env, `{"max_tokens": 1000}`)

	// The attacker knows the hash key (or reuses a hash) and writes the
	// value format by hand: 0x01 (plain), revision, JSON.
	planted := "tkn_" + strings.Repeat("A", 43)
	h, err := store.NewHasher([]byte(strings.TrimPrefix(hashKeyEnv, "TOKENOMICS_HASH_KEY=")))
	require.NoError(t, err)
	bdb, err := bbolt.Open(filepath.Join(dir, "tokenomics.db"), 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	require.NoError(t, err)
	v := make([]byte, 9, 64)
	v[0] = 0x01
	be.BigEndian.PutUint64(v[1:], 1)
	v = append(v, `{"policy":{},"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`...)
	require.NoError(t, bdb.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("records")).Put([]byte(h.Hash(planted)), v)
	}))
	require.NoError(t, bdb.Close())

	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	chat := `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	r := pxPost(t, p.URL+"/v1/chat/completions", planted, chat)
	assert.Equal(t, 401, r.status, "the planted token must be refused: %s", r.body)
	r = pxPost(t, p.URL+"/v1/chat/completions", good, chat)
	assert.Equal(t, 200, r.status, "genuine tokens keep working: %s", r.body)
	assert.Contains(t, p.Logs(), "refusing a record stored in the clear")

	res := run(t, dir, env, "token", "list")
	assert.Equal(t, 0, res.code, res.stderr)
	assert.NotContains(t, res.stdout, h.Hash(planted)[:12])
}
