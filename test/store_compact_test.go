package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// TestStoreCompactCommand: `tokenomics compact` rewrites a database with
// too little free for an open to compact it by itself to a smaller file
// that keeps its tokens, and says by how much; with the file held by
// another process it refuses and leaves it as it was.
func TestStoreCompactCommand(t *testing.T) {
	t.Parallel()
	dir := newProxyDir(t, proxySetup{fakeURL: "http://127.0.0.1:9", port: freePort(t)})
	path := filepath.Join(dir, "tokenomics.db")
	db, err := store.Open(path, store.Options{HashKey: []byte(strings.TrimPrefix(hashKeyEnv, "TOKENOMICS_HASH_KEY="))})
	require.NoError(t, err)
	pad := strings.Repeat("p", 2000)
	policies := make([]json.RawMessage, 300)
	for i := range policies {
		policies[i] = json.RawMessage(fmt.Sprintf(`{"max_tokens":%d,"metadata":{"pad":%q}}`, i+1, pad))
	}
	tokens, err := db.CreateMany(policies, nil)
	require.NoError(t, err)
	var keep string
	for i, tk := range tokens {
		rec, err := db.Lookup(tk)
		require.NoError(t, err)
		if i == 0 {
			keep = rec.Hash
			continue
		}
		_, err = db.Delete(rec.Hash)
		require.NoError(t, err)
	}

	res := run(t, dir, []string{hashKeyEnv}, "compact")
	assert.NotEqual(t, 0, res.code, "the file is locked")
	require.NoError(t, db.Close())
	before, err := os.Stat(path)
	require.NoError(t, err)

	res = run(t, dir, []string{hashKeyEnv}, "compact")
	require.Equal(t, 0, res.code, res.stderr)
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.Less(t, after.Size(), before.Size())
	assert.Equal(t, os.FileMode(0o600), after.Mode().Perm())
	assert.Contains(t, res.stdout, fmt.Sprintf("%d → %d bytes", before.Size(), after.Size()))
	_, err = os.Stat(path + ".compact-tmp")
	assert.ErrorIs(t, err, os.ErrNotExist)

	res = run(t, dir, []string{hashKeyEnv}, "token", "get", "--hash", keep[:12])
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "max_tokens")
}
