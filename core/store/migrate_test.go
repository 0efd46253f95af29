package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// The fixtures under testdata were written by the schema 1 store (commit
// 1569ff9): four live tokens (two sharing a policy, one with an expiry,
// one updated) and one deleted, with and without encryption.
type oldFixture struct {
	Tokens []struct {
		Token  string          `json:"token"`
		Policy json.RawMessage `json:"policy"`
	} `json:"tokens"`
	Deleted  []string `json:"deleted"`
	Revision uint64   `json:"revision"`
}

var oldFixtures = []struct {
	name string
	key  []byte
}{{"v1-plain", nil}, {"v1-sealed", testEncKey}}

// copyFixture copies testdata/name.db into a temp dir and reads its tokens.
func copyFixture(t *testing.T, name string) (string, oldFixture) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".db"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "tokens.db")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	var fx oldFixture
	j, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(j, &fx))
	return path, fx
}

// bucketValues reads one bucket of an open database.
func bucketValues(t *testing.T, db *DB, bucket []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, db.Bolt().View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			out[string(k)] = bytes.Clone(v)
			return nil
		})
	}))
	return out
}

func schemaOf(t *testing.T, path string) byte {
	t.Helper()
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer bdb.Close()
	var s byte
	require.NoError(t, bdb.View(func(tx *bbolt.Tx) error {
		s = tx.Bucket(bucketMeta).Get(keySchema)[0]
		return nil
	}))
	return s
}

// requireFixtureTokens checks that db serves every token of fx as written.
func requireFixtureTokens(t *testing.T, db *DB, fx oldFixture) {
	t.Helper()
	for _, tk := range fx.Tokens {
		rec, err := db.Lookup(tk.Token)
		require.NoError(t, err)
		assert.JSONEq(t, string(tk.Policy), string(rec.Policy))
	}
	for _, tk := range fx.Deleted {
		_, err := db.Lookup(tk)
		require.ErrorIs(t, err, ErrNotFound)
	}
	recs, err := db.List()
	require.NoError(t, err)
	require.Len(t, recs, len(fx.Tokens))
	rec, err := db.Lookup(fx.Tokens[2].Token)
	require.NoError(t, err)
	require.NotNil(t, rec.ExpiresAt, "the expiry survives")
	assert.Equal(t, 2099, rec.ExpiresAt.Year())
	assert.Equal(t, fx.Revision, db.Revision())
	changes, rev, err := db.Changes(fx.Revision - 2)
	require.NoError(t, err)
	assert.Equal(t, fx.Revision, rev)
	require.Len(t, changes, 2, "the update and the tombstone")
	assert.True(t, changes[1].Deleted)
}

// TestOldLayoutConverted: a schema 1 file is read as it is by a read-only
// open, and converted by a writable one: every token keeps its policy,
// expiry, revision and the change feed, and policies are stored once.
func TestOldLayoutConverted(t *testing.T) {
	t.Parallel()
	for _, fx := range oldFixtures {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			path, tokens := copyFixture(t, fx.name)
			orig, err := os.ReadFile(path)
			require.NoError(t, err)

			ro, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: fx.key, ReadOnly: true})
			require.NoError(t, err)
			requireFixtureTokens(t, ro, tokens)
			require.NoError(t, ro.Close())
			now, err := os.ReadFile(path)
			require.NoError(t, err)
			require.True(t, bytes.Equal(orig, now), "a read-only open leaves the file as it is")

			db := openAt(t, path, func(o *Options) { o.EncryptionKey = fx.key })
			requireFixtureTokens(t, db, tokens)
			requireRefs(t, db)
			assert.Equal(t, schemaVersion, bucketValues(t, db, bucketMeta)[string(keySchema)][0])
			assert.Len(t, bucketValues(t, db, bucketPolicies), 3, "two tokens share one policy")
			_, _, err = db.Create(policyJSON("after"), nil)
			require.NoError(t, err)
			requireRefs(t, db)
			require.NoError(t, db.Close())

			db = openAt(t, path, func(o *Options) { o.EncryptionKey = fx.key })
			recs, err := db.List()
			require.NoError(t, err)
			assert.Len(t, recs, len(tokens.Tokens)+1)
		})
	}
}

// TestOldLayoutKeyAdoptedOnConversion: a plain schema 1 file opened with a
// key for the first time comes out sealed and in schema 2.
func TestOldLayoutKeyAdoptedOnConversion(t *testing.T) {
	t.Parallel()
	path, tokens := copyFixture(t, "v1-plain")
	db := openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
	requireFixtureTokens(t, db, tokens)
	requireRefs(t, db)
	for _, v := range bucketValues(t, db, bucketRecords) {
		assert.Equal(t, valueRefSealed, v[0])
	}
	for _, v := range bucketValues(t, db, bucketPolicies) {
		assert.Equal(t, byte(blobSealed), v[8])
	}
}

// TestOldLayoutConversionFails: a conversion that fails part-way commits
// nothing: Open fails, the file is byte for byte the schema 1 file, and the
// next open converts it.
func TestOldLayoutConversionFails(t *testing.T) {
	// Not parallel: migrateHook is package state.
	path, tokens := copyFixture(t, "v1-sealed")
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	boom := errors.New("disk gone")
	migrateHook = func(n int) error {
		if n == 2 {
			return boom
		}
		return nil
	}
	_, err = Open(path, Options{HashKey: testHashKey, EncryptionKey: testEncKey})
	migrateHook = nil
	require.ErrorIs(t, err, boom)
	now, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(orig, now), "nothing of the conversion was written")

	db := openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
	requireFixtureTokens(t, db, tokens)
	requireRefs(t, db)
}

// migrateHelperEnv makes the test binary convert the fixture at the path
// it names and stop half-way, saying so, until it is killed (see TestMain).
const migrateHelperEnv = "TOKENOMICS_STORE_MIGRATE_HELPER_DB"

func convertAndHang(path string) int {
	migrateHook = func(n int) error {
		if n == 2 {
			fmt.Println("converting")
			select {} // killed here, the write transaction open
		}
		return nil
	}
	_, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: testEncKey})
	fmt.Fprintln(os.Stderr, "conversion was not interrupted:", err)
	return 2
}

// TestOldLayoutConversionKilled: a process killed with SIGKILL in the
// middle of converting leaves a file that opens with every token, and is
// converted by the next open.
func TestOldLayoutConversionKilled(t *testing.T) {
	t.Parallel()
	path, tokens := copyFixture(t, "v1-sealed")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), migrateHelperEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, stderr.String())
	require.Equal(t, "converting\n", line)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal())

	assert.Equal(t, byte(1), schemaOf(t, path), "the killed conversion committed nothing")
	db := openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
	requireFixtureTokens(t, db, tokens)
	requireRefs(t, db)
	assert.Equal(t, schemaVersion, bucketValues(t, db, bucketMeta)[string(keySchema)][0])
}

// TestOldLayoutPlantedRecordNotLaundered: a record planted in the clear in
// an encrypted schema 1 file is not converted (which would seal it): it
// stays refused.
func TestOldLayoutPlantedRecordNotLaundered(t *testing.T) {
	t.Parallel()
	path, tokens := copyFixture(t, "v1-sealed")
	planted := "tkn_" + strings.Repeat("A", 43)
	bdb, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	h, err := NewHasher(testHashKey)
	require.NoError(t, err)
	v, err := codec{}.encode(Record{Hash: h.Hash(planted), Policy: json.RawMessage(`{}`), Revision: 1})
	require.NoError(t, err)
	require.NoError(t, bdb.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketRecords).Put([]byte(h.Hash(planted)), v)
	}))
	require.NoError(t, bdb.Close())

	db := openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
	_, err = db.Lookup(planted)
	require.ErrorIs(t, err, ErrUnsealed)
	requireFixtureTokens(t, db, tokens)
	assert.Equal(t, valuePlain, bucketValues(t, db, bucketRecords)[h.Hash(planted)][0], "left as it was")
}
