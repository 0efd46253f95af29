package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// lockHelperEnv makes the test binary act as a second process holding the
// database lock (see TestMain).
const lockHelperEnv = "TOKENOMICS_STORE_LOCK_HELPER_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(lockHelperEnv); path != "" {
		os.Exit(holdLock(path))
	}
	if path := os.Getenv(migrateHelperEnv); path != "" {
		os.Exit(convertAndHang(path))
	}
	if path := os.Getenv(compactHelperEnv); path != "" {
		os.Exit(compactAndHang(path, os.Getenv(compactStepEnv)))
	}
	os.Exit(m.Run())
}

// holdLock opens path, says "locked", and keeps it open until stdin closes.
func holdLock(path string) int {
	db, err := Open(path, Options{HashKey: testHashKey})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = db.Close()
	return 0
}

func TestOpenLockedByOtherProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)

	_, err = Open(path, Options{HashKey: testHashKey, LockTimeout: 100 * time.Millisecond})
	require.ErrorIs(t, err, ErrLocked)
	var le *LockedError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, path, le.Path)
	assert.Equal(t, fmt.Sprintf("store: database %q is in use by another process", path), err.Error())

	// Once the other process lets go, the same Open succeeds.
	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait())
	db, err := Open(path, Options{HashKey: testHashKey, LockTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, db.Close())
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "nested")
	path := filepath.Join(dir, "tokens.db")
	db := openAt(t, path, nil)
	assert.Equal(t, path, db.Path())

	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestOpenOptionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		opts Options
		want error
	}{
		{name: "short hash key", path: "x.db", opts: Options{HashKey: []byte("short")}, want: ErrInvalidKey},
		{name: "short encryption key", path: "x.db", opts: Options{HashKey: testHashKey, EncryptionKey: []byte("short")}, want: ErrInvalidKey},
		{name: "empty encryption key", path: "x.db", opts: Options{HashKey: testHashKey, EncryptionKey: []byte{}}, want: ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(filepath.Join(t.TempDir(), tc.path), tc.opts)
			require.ErrorIs(t, err, tc.want)
		})
	}
	_, err := Open("", Options{HashKey: testHashKey})
	require.Error(t, err)
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	for _, enc := range [][]byte{nil, testEncKey} {
		t.Run(fmt.Sprintf("encrypted=%v", enc != nil), func(t *testing.T) {
			path := path + fmt.Sprint(len(enc))
			db, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: enc})
			require.NoError(t, err)
			token, rec, err := db.Create(policyJSON("gpt-4o"), nil)
			require.NoError(t, err)
			_, err = db.Delete(mustCreate(t, db).Hash)
			require.NoError(t, err)
			require.NoError(t, db.Close())

			db, err = Open(path, Options{HashKey: testHashKey, EncryptionKey: enc})
			require.NoError(t, err)
			defer db.Close()
			got, err := db.Lookup(token)
			require.NoError(t, err)
			assert.Equal(t, rec.Hash, got.Hash)
			assert.JSONEq(t, string(rec.Policy), string(got.Policy))
			assert.Equal(t, uint64(3), db.Revision())
			// Revision 2 was created and then deleted at 3: only the tombstone is left.
			changes, _, err := db.Changes(1)
			require.NoError(t, err)
			require.Len(t, changes, 1)
			assert.True(t, changes[0].Deleted)
			assert.Equal(t, uint64(3), changes[0].Revision)
		})
	}
}

func TestOpenWrongHashKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := Open(path, Options{HashKey: testHashKey})
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = Open(path, Options{HashKey: []byte("another-hash-key-of-enough-length")})
	require.ErrorIs(t, err, ErrHashKeyMismatch)
	assert.Contains(t, err.Error(), path)

	// The file is closed again after the failure: the right key still works.
	db, err = Open(path, Options{HashKey: testHashKey, LockTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, db.Close())
}

func TestOpenEncryptionKeys(t *testing.T) {
	t.Parallel()
	wrongKey := bytes.Repeat([]byte{7}, EncryptionKeyLen)
	tests := []struct {
		name    string
		first   []byte // key the file is created with
		second  []byte // key it is reopened with
		wantErr error
	}{
		{name: "same key", first: testEncKey, second: testEncKey},
		{name: "no key", first: testEncKey, second: nil, wantErr: ErrDecrypt},
		{name: "wrong key", first: testEncKey, second: wrongKey, wantErr: ErrDecrypt},
		{name: "plain stays plain", first: nil, second: nil},
		{name: "plain file gains a key", first: nil, second: testEncKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tokens.db")
			db, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: tc.first})
			require.NoError(t, err)
			token, _, err := db.Create(policyJSON("m"), nil)
			require.NoError(t, err)
			require.NoError(t, db.Close())

			db, err = Open(path, Options{HashKey: testHashKey, EncryptionKey: tc.second})
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Contains(t, err.Error(), "encryption key")
				return
			}
			require.NoError(t, err)
			defer db.Close()
			_, err = db.Lookup(token)
			require.NoError(t, err)
		})
	}
}

func TestPlainFileWithKeyThenWithoutKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := Open(path, Options{HashKey: testHashKey})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db, err = Open(path, Options{HashKey: testHashKey, EncryptionKey: testEncKey})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	// Once a key has been used, it is required.
	_, err = Open(path, Options{HashKey: testHashKey})
	require.ErrorIs(t, err, ErrDecrypt)
}

func TestEncryptedPolicyAbsentFromFile(t *testing.T) {
	t.Parallel()
	const secret = "very-distinctive-model-name-1234"
	tests := []struct {
		name      string
		key       []byte
		wantFound bool
	}{
		{name: "plain", key: nil, wantFound: true},
		{name: "encrypted", key: testEncKey, wantFound: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tokens.db")
			db, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: tc.key})
			require.NoError(t, err)
			token, rec, err := db.Create(policyJSON(secret), nil)
			require.NoError(t, err)
			require.NoError(t, db.Close())

			raw := rawValues(t, path)
			_, ok := raw[rec.Hash]
			require.True(t, ok, "record stored under its hash")
			pols := rawPolicies(t, path)
			require.Len(t, pols, 1, "the policy is stored once, beside the record")
			for _, v := range pols {
				assert.Equal(t, tc.wantFound, bytes.Contains(v, []byte(secret)))
			}
			for k := range raw {
				assert.NotContains(t, k, token)
			}
			file, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.wantFound, bytes.Contains(file, []byte(secret)))
			assert.False(t, bytes.Contains(file, []byte(token)), "the token is never stored")
		})
	}
}

func TestCiphertextBoundToRecord(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: testEncKey})
	require.NoError(t, err)
	a := mustCreate(t, db)
	b := mustCreate(t, db)
	require.NoError(t, db.Close())

	// Copy a's sealed value over b's.
	bdb, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, bdb.Update(func(tx *bbolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		return records.Put([]byte(b.Hash), bytes.Clone(records.Get([]byte(a.Hash))))
	}))
	require.NoError(t, bdb.Close())

	db = openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
	_, err = db.Get(a.Hash)
	require.NoError(t, err)
	_, err = db.Get(b.Hash)
	require.ErrorIs(t, err, ErrDecrypt)
	_, err = db.List()
	require.ErrorIs(t, err, ErrDecrypt)
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := Open(path, Options{HashKey: testHashKey})
	require.NoError(t, err)
	token, _, err := db.Create(policyJSON("m"), nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	ro := openAt(t, path, func(o *Options) { o.ReadOnly = true })
	_, err = ro.Lookup(token)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), ro.Revision())
	_, _, err = ro.Create(policyJSON("m"), nil)
	require.Error(t, err)

	_, err = Open(filepath.Join(t.TempDir(), "missing.db"), Options{HashKey: testHashKey, ReadOnly: true})
	require.True(t, errors.Is(err, os.ErrNotExist), "got %v", err)
}

// rawValues reads the records bucket with bbolt directly.
func rawValues(t *testing.T, path string) map[string][]byte {
	return rawBucket(t, path, bucketRecords)
}

// rawPolicies reads the policies bucket of the file at path, by key.
func rawPolicies(t *testing.T, path string) map[string][]byte {
	return rawBucket(t, path, bucketPolicies)
}

// rawBucket reads one bucket of the file at path with bbolt directly.
func rawBucket(t *testing.T, path string, name []byte) map[string][]byte {
	t.Helper()
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer bdb.Close()
	out := map[string][]byte{}
	require.NoError(t, bdb.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(name).ForEach(func(k, v []byte) error {
			out[string(k)] = bytes.Clone(v)
			return nil
		})
	}))
	return out
}

func mustCreate(t testing.TB, db *DB) Record {
	t.Helper()
	_, rec, err := db.Create(policyJSON("m"), nil)
	require.NoError(t, err)
	return rec
}
