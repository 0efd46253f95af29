package store

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// plantPlain writes a record in the clear straight into the file, as
// someone with write access to a copy of the database could.
func plantPlain(t *testing.T, db *DB, hash string) {
	t.Helper()
	plain := codec{}
	v, err := plain.encode(Record{Hash: hash, Policy: []byte(`{}`), Revision: 1})
	require.NoError(t, err)
	require.NoError(t, db.Bolt().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketRecords).Put([]byte(hash), v)
	}))
}

func TestUnsealedRecordRefused(t *testing.T) {
	t.Parallel()
	db := openTest(t, func(o *Options) { o.EncryptionKey = testEncKey })
	tok, good, err := db.Create(policyJSON("gpt-4o"), nil)
	require.NoError(t, err)
	planted := fakeHash("ab", 'c')
	plantPlain(t, db, planted)

	_, err = db.Get(planted)
	assert.True(t, errors.Is(err, ErrUnsealed), "%v", err)
	_, err = db.Resolve(planted[:8])
	assert.True(t, errors.Is(err, ErrUnsealed), "%v", err)

	recs, err := db.List()
	require.NoError(t, err, "one planted record must not hide the others")
	require.Len(t, recs, 1)
	assert.Equal(t, good.Hash, recs[0].Hash)

	changes, _, err := db.Changes(0)
	require.NoError(t, err)
	for _, c := range changes {
		assert.NotEqual(t, planted, c.Hash, "the change feed never carries the planted record")
	}
	got, err := db.Lookup(tok)
	require.NoError(t, err)
	assert.Equal(t, good.Hash, got.Hash)
}

// A database written without a key adopts one: its records are sealed
// on the first open with the key, and stay readable.
func TestPlainRecordsSealedWhenKeyAdopted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := Open(path, Options{HashKey: testHashKey})
	require.NoError(t, err)
	tok, _, err := db.Create(policyJSON("gpt-4o"), nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db, err = Open(path, Options{HashKey: testHashKey, EncryptionKey: testEncKey})
	require.NoError(t, err)
	defer db.Close()
	rec, err := db.Lookup(tok)
	require.NoError(t, err)
	assert.JSONEq(t, string(policyJSON("gpt-4o")), string(rec.Policy))
	require.NoError(t, db.Bolt().View(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketRecords).ForEach(func(_, v []byte) error {
			assert.Equal(t, valueRefSealed, v[0], "every record is sealed now")
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketPolicies).ForEach(func(_, v []byte) error {
			assert.Equal(t, byte(blobSealed), v[8], "every policy is sealed now")
			return nil
		})
	}))
}
