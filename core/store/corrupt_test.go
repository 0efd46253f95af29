package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// filledFile writes a database with n tokens and closes it.
func filledFile(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := Open(path, Options{HashKey: testHashKey})
	require.NoError(t, err)
	for range n {
		_, _, err := db.Create(policyJSON(strings.Repeat("m", 200)), nil)
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())
	return path
}

// TestOpenDamaged: whatever the damage, Open returns a *CorruptError
// naming the file, on one line, instead of panicking or faulting.
func TestOpenDamaged(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			b := make([]byte, 64<<10)
			for i := range b {
				b[i] = byte(i*131 + 17)
			}
			require.NoError(t, os.WriteFile(path, b, 0o600))
		}},
		{"truncated", func(t *testing.T, path string) {
			st, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, st.Size()/3))
		}},
		{"garbled pages", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			for i := 4 * 4096; i < len(b); i += 5 {
				b[i] ^= 0xa5
			}
			require.NoError(t, os.WriteFile(path, b, 0o600))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filledFile(t, 300)
			tc.damage(t, path)
			_, err := Open(path, Options{HashKey: testHashKey})
			require.Error(t, err)
			require.ErrorIs(t, err, ErrCorrupt)
			var ce *CorruptError
			require.True(t, errors.As(err, &ce), "%T: %v", err, err)
			assert.Equal(t, path, ce.Path)
			assert.NotContains(t, err.Error(), "\n")
			assert.Contains(t, err.Error(), path)
		})
	}
}

// TestGuardRecoversPanics: a panic inside a read becomes an error.
func TestGuardRecoversPanics(t *testing.T) {
	t.Parallel()
	err := guard("x.db", func() error { panic("invalid page type: 0: 10\ngoroutine 1") })
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "invalid page type: 0: 10", ce.Detail)
}

// TestOnWriteHook: the hook runs inside the change's transaction, sees its
// changes, and its error aborts the change.
func TestOnWriteHook(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	var seen []Change
	db.OnWrite(func(tx *bbolt.Tx, changes []Change) error {
		require.True(t, tx.Writable())
		seen = append(seen, changes...)
		b, err := tx.CreateBucketIfNotExists([]byte("hooked"))
		if err != nil {
			return err
		}
		return b.Put([]byte("last"), []byte(changes[len(changes)-1].Hash))
	})
	_, rec, err := db.Create(policyJSON("a"), nil)
	require.NoError(t, err)
	require.Len(t, seen, 1)
	assert.Equal(t, rec.Hash, seen[0].Hash)
	require.NoError(t, db.Bolt().View(func(tx *bbolt.Tx) error {
		assert.Equal(t, rec.Hash, string(tx.Bucket([]byte("hooked")).Get([]byte("last"))))
		return nil
	}))

	boom := errors.New("boom")
	db.OnWrite(func(*bbolt.Tx, []Change) error { return boom })
	_, err = db.Delete(rec.Hash)
	require.ErrorIs(t, err, boom)
	_, err = db.Get(rec.Hash)
	require.NoError(t, err, "the delete rolled back with the hook")
	assert.Equal(t, rec.Revision, db.Revision())
	db.OnWrite(nil)
	_, err = db.Delete(rec.Hash)
	require.NoError(t, err)
}

// TestSubscribeBatchAndPublish: one call per transaction; Publish reaches
// subscribers without touching the file.
func TestSubscribeBatchAndPublish(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	var batches [][]Change
	cancel := db.SubscribeBatch(func(cs []Change) { batches = append(batches, append([]Change(nil), cs...)) })
	defer cancel()
	changes := []Change{
		{Revision: 1, Hash: fakeHash("aa", 'a'), Record: &Record{Policy: policyJSON("x")}},
		{Revision: 2, Hash: fakeHash("bb", 'b'), Record: &Record{Policy: policyJSON("y")}},
		{Revision: 3, Hash: fakeHash("cc", 'c'), Deleted: true},
	}
	require.NoError(t, db.Apply(changes, 3))
	require.Len(t, batches, 1)
	assert.Len(t, batches[0], 3)

	db.Publish([]Change{{Revision: 4, Hash: fakeHash("aa", 'a'), Deleted: true}})
	require.Len(t, batches, 2)
	assert.True(t, batches[1][0].Deleted)
	_, err := db.Get(fakeHash("aa", 'a'))
	require.NoError(t, err, "Publish does not write")
	assert.Equal(t, uint64(3), db.Revision())
	require.NoError(t, db.Check())
}
