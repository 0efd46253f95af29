package store

import (
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

var testPassphrase = []byte("correct horse battery staple")

func metaValue(t *testing.T, db *DB, key []byte) []byte {
	t.Helper()
	var v []byte
	require.NoError(t, db.Bolt().View(func(tx *bbolt.Tx) error {
		v = append([]byte(nil), tx.Bucket(bucketMeta).Get(key)...)
		return nil
	}))
	return v
}

func TestPassphraseStretchedWithStoredSalt(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := Open(path, Options{HashKey: testHashKey, EncryptionPassphrase: testPassphrase})
	require.NoError(t, err)
	assert.False(t, db.LegacyKDF())
	tok, _, err := db.Create(policyJSON("gpt-4o"), nil)
	require.NoError(t, err)
	assert.Equal(t, kdfScrypt, metaValue(t, db, keyEncKDF)[:len(kdfScrypt)])
	assert.Len(t, metaValue(t, db, keyEncSalt), saltLen)
	require.NoError(t, db.Close())

	// Not the unsalted digest any more.
	sum := sha256.Sum256(testPassphrase)
	_, err = Open(path, Options{HashKey: testHashKey, EncryptionKey: sum[:]})
	assert.True(t, errors.Is(err, ErrDecrypt), "%v", err)
	_, err = Open(path, Options{HashKey: testHashKey, EncryptionPassphrase: []byte("another long passphrase")})
	assert.True(t, errors.Is(err, ErrDecrypt), "%v", err)

	db, err = Open(path, Options{HashKey: testHashKey, EncryptionPassphrase: testPassphrase})
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Lookup(tok)
	require.NoError(t, err)
}

// A database written before the derivation was recorded (its key is the
// SHA-256 of the passphrase) keeps opening, and rekey moves it to scrypt
// without touching revisions.
func TestLegacyDatabaseOpensAndRekeys(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	sum := sha256.Sum256(testPassphrase)
	old, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: sum[:]})
	require.NoError(t, err)
	tok, rec, err := old.Create(policyJSON("gpt-4o"), nil)
	require.NoError(t, err)
	require.NoError(t, old.Close())

	db, err := Open(path, Options{HashKey: testHashKey, EncryptionPassphrase: testPassphrase})
	require.NoError(t, err)
	assert.True(t, db.LegacyKDF())
	got, err := db.Lookup(tok)
	require.NoError(t, err)
	assert.Equal(t, rec.Revision, got.Revision)

	n, err := db.Rekey(nil, testPassphrase)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.False(t, db.LegacyKDF())
	rev := db.Revision()
	require.NoError(t, db.Close())

	db, err = Open(path, Options{HashKey: testHashKey, EncryptionPassphrase: testPassphrase})
	require.NoError(t, err)
	defer db.Close()
	assert.False(t, db.LegacyKDF())
	assert.Equal(t, rev, db.Revision(), "a rekey is not a token change")
	got, err = db.Lookup(tok)
	require.NoError(t, err)
	assert.Equal(t, rec.Revision, got.Revision)
	assert.JSONEq(t, string(rec.Policy), string(got.Policy))
	_, err = Open(path, Options{HashKey: testHashKey, EncryptionKey: sum[:]})
	assert.Error(t, err, "the legacy key no longer opens it")
}

func TestRekeyToRawKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: testEncKey})
	require.NoError(t, err)
	tok, _, err := db.Create(policyJSON("gpt-4o"), nil)
	require.NoError(t, err)
	newKey := []byte("fedcba9876543210fedcba9876543210")
	_, err = db.Rekey(newKey, nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db, err = Open(path, Options{HashKey: testHashKey, EncryptionKey: newKey})
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Lookup(tok)
	require.NoError(t, err)
	_, err = db.Rekey(nil, nil)
	assert.True(t, errors.Is(err, ErrInvalidKey))
}
