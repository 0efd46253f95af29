package central

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

func TestRegistryPersistsAndCountsRevisions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "reg.db")
	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	reg, err := OpenRegistry(db, nil, nil)
	require.NoError(t, err)

	// Concurrent uploads get distinct revisions.
	const n = 8
	var wg sync.WaitGroup
	revs := make([]uint64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wasm, env := signed(t, fmt.Sprintf("p%d", i), "1.0.0", fmt.Sprint(i), key(1))
			e, created, err := reg.Put(env, wasm)
			assert.NoError(t, err)
			assert.True(t, created)
			revs[i] = e.Revision
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, r := range revs {
		assert.False(t, seen[r], "revision %d given twice", r)
		seen[r] = true
	}
	require.NoError(t, db.Close())

	db, err = bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	reg, err = OpenRegistry(db, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(n), reg.Revision())
	l, err := reg.Changes(0)
	require.NoError(t, err)
	assert.Len(t, l.Plugins, n)
	for _, e := range l.Plugins {
		b, err := reg.Blob(e.SHA256)
		require.NoError(t, err)
		m, err := manifest.VerifySelfSigned(e.Manifest)
		require.NoError(t, err)
		require.NoError(t, manifest.CheckBinary(m, b))
	}
	_, err = reg.Blob(manifest.Sum([]byte("nothing")))
	require.ErrorIs(t, err, ErrNotFound)
	_, err = reg.Delete(manifest.Sum([]byte("nothing")))
	require.ErrorIs(t, err, ErrNotFound)
}
