package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// requireRefs checks the schema 2 invariants of db's file: every record
// names a policy that exists, each policy's count is the number of records
// naming it (so none is an orphan), and there is one policy per distinct
// policy among the live records.
func requireRefs(t *testing.T, db *DB) {
	t.Helper()
	distinct := map[string]bool{}
	recs, err := db.List()
	require.NoError(t, err)
	for _, r := range recs {
		distinct[string(r.Policy)] = true
	}
	require.NoError(t, db.Bolt().View(func(tx *bbolt.Tx) error {
		fix, err := checkRefs(tx)
		require.NoError(t, err, "no record references a missing policy")
		require.Empty(t, fix, "every reference count matches its records (no orphan)")
		require.Equal(t, len(distinct), tx.Bucket(bucketPolicies).Stats().KeyN, "one policy value per distinct policy")
		return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			_, ok := refKey(v)
			require.True(t, ok, "record %s is in schema 2", short(string(k)))
			return nil
		})
	}))
}

// TestPolicyRefsAcrossWrites holds the reference counts to the records
// after every write path, with and without encryption.
func TestPolicyRefsAcrossWrites(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		name string
		run  func(t *testing.T, db *DB, clk *clock, hashes *[]string)
	}{
		{"create", func(t *testing.T, db *DB, _ *clock, hs *[]string) {
			for _, m := range []string{"a", "a", "b"} {
				_, rec, err := db.Create(policyJSON(m), nil)
				require.NoError(t, err)
				*hs = append(*hs, rec.Hash)
			}
		}},
		{"create many with repeats", func(t *testing.T, db *DB, _ *clock, hs *[]string) {
			toks, err := db.CreateMany([]json.RawMessage{policyJSON("a"), policyJSON("c"), policyJSON("c"), policyJSON("d")}, nil)
			require.NoError(t, err)
			for _, tok := range toks {
				*hs = append(*hs, db.Hasher().Hash(tok))
			}
		}},
		{"create many that fails writes nothing", func(t *testing.T, db *DB, _ *clock, _ *[]string) {
			_, err := db.CreateMany([]json.RawMessage{policyJSON("e"), json.RawMessage(`[]`)}, nil)
			require.ErrorIs(t, err, ErrInvalidPolicy)
		}},
		{"update to another policy, the same one, an existing one", func(t *testing.T, db *DB, _ *clock, hs *[]string) {
			for i, m := range map[int]string{0: "z", 1: "a", 2: "c"} {
				_, err := db.Update((*hs)[i], func(r *Record) error { r.Policy = policyJSON(m); return nil })
				require.NoError(t, err)
			}
		}},
		{"update that fails changes nothing", func(t *testing.T, db *DB, _ *clock, hs *[]string) {
			_, err := db.Update((*hs)[0], func(r *Record) error { r.Policy = policyJSON("never"); return errors.New("no") })
			require.Error(t, err)
		}},
		{"delete the last holder of a policy", func(t *testing.T, db *DB, _ *clock, hs *[]string) {
			_, err := db.Delete((*hs)[6]) // "d"
			require.NoError(t, err)
		}},
		{"apply upserts and tombstones", func(t *testing.T, db *DB, _ *clock, hs *[]string) {
			rev := db.Revision()
			pol := policyJSON("applied")
			err := db.Apply([]Change{
				{Revision: rev + 1, Hash: fakeHash("aa", 'a'), Record: &Record{Policy: pol, CreatedAt: now, UpdatedAt: now}},
				{Revision: rev + 2, Hash: fakeHash("bb", 'b'), Record: &Record{Policy: pol, CreatedAt: now, UpdatedAt: now}},
				{Revision: rev + 3, Hash: (*hs)[1], Record: &Record{Policy: policyJSON("b"), CreatedAt: now, UpdatedAt: now}},
				{Revision: rev + 4, Hash: (*hs)[3], Deleted: true},
				{Revision: rev + 5, Hash: fakeHash("cc", 'c'), Deleted: true},
			}, rev+5)
			require.NoError(t, err)
		}},
		{"apply an upsert and its tombstone in one batch", func(t *testing.T, db *DB, _ *clock, _ *[]string) {
			rev := db.Revision()
			err := db.Apply([]Change{
				{Revision: rev + 1, Hash: fakeHash("ab", 'a'), Record: &Record{Policy: policyJSON("fleeting"), CreatedAt: now, UpdatedAt: now}},
				{Revision: rev + 2, Hash: fakeHash("ab", 'a'), Deleted: true},
			}, rev+2)
			require.NoError(t, err)
		}},
		{"compact", func(t *testing.T, db *DB, clk *clock, _ *[]string) {
			clk.t = clk.t.Add(DefaultTombstoneRetention + time.Hour)
			n, err := db.Compact(clk.t)
			require.NoError(t, err)
			require.Positive(t, n)
		}},
		{"replace with a full fetch", func(t *testing.T, db *DB, _ *clock, hs *[]string) {
			rev := db.Revision() + 10
			err := db.Replace([]Change{
				{Revision: 3, Hash: (*hs)[2], Record: &Record{Policy: policyJSON("c"), CreatedAt: now, UpdatedAt: now}},
				{Revision: 4, Hash: fakeHash("dd", 'd'), Record: &Record{Policy: policyJSON("c"), CreatedAt: now, UpdatedAt: now}},
				{Revision: 5, Hash: fakeHash("ee", 'e'), Record: &Record{Policy: policyJSON("f"), CreatedAt: now, UpdatedAt: now}},
			}, rev)
			require.NoError(t, err)
		}},
		{"apply after replace", func(t *testing.T, db *DB, _ *clock, _ *[]string) {
			rev := db.Revision()
			require.NoError(t, db.Apply([]Change{
				{Revision: rev + 1, Hash: fakeHash("ee", 'e'), Deleted: true},
				{Revision: rev + 2, Hash: fakeHash("ff", 'f'), Record: &Record{Policy: policyJSON("c"), CreatedAt: now, UpdatedAt: now}},
			}, rev+2))
		}},
	}
	for _, enc := range []struct {
		name string
		key  []byte
	}{{"plain", nil}, {"encrypted", testEncKey}} {
		t.Run(enc.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: now}
			path := filepath.Join(t.TempDir(), "tokens.db")
			db := openAt(t, path, func(o *Options) { o.EncryptionKey = enc.key; o.Now = clk.now })
			var hashes []string
			for _, st := range steps {
				st.run(t, db, clk, &hashes)
				requireRefs(t, db)
			}
			if enc.key != nil {
				n, err := db.Rekey(bytes.Repeat([]byte{7}, EncryptionKeyLen), nil)
				require.NoError(t, err)
				require.Equal(t, 3, n)
				requireRefs(t, db)
			}
			// Whatever the store holds now reads back, and after a reopen.
			before, err := db.List()
			require.NoError(t, err)
			require.NoError(t, db.Close())
			key := enc.key
			if key != nil {
				key = bytes.Repeat([]byte{7}, EncryptionKeyLen)
			}
			db = openAt(t, path, func(o *Options) { o.EncryptionKey = key; o.Now = clk.now })
			requireRefs(t, db)
			after, err := db.List()
			require.NoError(t, err)
			require.Equal(t, before, after)
			models := map[string]int{}
			for _, r := range after {
				var p struct{ Model string }
				require.NoError(t, json.Unmarshal(r.Policy, &p))
				models[p.Model]++
			}
			assert.Equal(t, map[string]int{"c": 3}, models)
		})
	}
}

// TestPolicyKeyIsKeyed: a policy's key is not its plain digest, and depends
// on the hash key, so the file does not confirm a guessed policy.
func TestPolicyKeyIsKeyed(t *testing.T) {
	t.Parallel()
	pol := policyJSON("guessable")
	keys := map[string]bool{}
	for _, hk := range [][]byte{testHashKey, []byte("another-hash-key-0123456789")} {
		path := filepath.Join(t.TempDir(), "tokens.db")
		db := openAt(t, path, func(o *Options) { o.HashKey = hk })
		_, _, err := db.Create(pol, nil)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		for k := range rawPolicies(t, path) {
			sum := sha256.Sum256(pol)
			assert.NotEqual(t, string(sum[:]), k)
			keys[k] = true
		}
	}
	assert.Len(t, keys, 2, "two hash keys, two policy keys")
}

// TestEachSharesPolicyBytes: Each hands every live record over once, the
// records of one policy sharing its bytes; fn's error and panic come back
// as they are.
func TestEachSharesPolicyBytes(t *testing.T) {
	t.Parallel()
	for _, key := range [][]byte{nil, testEncKey} {
		db := openTest(t, func(o *Options) { o.EncryptionKey = key })
		_, err := db.CreateMany([]json.RawMessage{policyJSON("a"), policyJSON("b"), policyJSON("a"), policyJSON("a")}, nil)
		require.NoError(t, err)
		byPolicy := map[string]map[*byte]bool{}
		n := 0
		require.NoError(t, db.Each(func(r Record) error {
			n++
			if byPolicy[string(r.Policy)] == nil {
				byPolicy[string(r.Policy)] = map[*byte]bool{}
			}
			byPolicy[string(r.Policy)][unsafe.SliceData(r.Policy)] = true
			return nil
		}))
		assert.Equal(t, 4, n)
		assert.Len(t, byPolicy, 2)
		for p, ptrs := range byPolicy {
			assert.Len(t, ptrs, 1, "records of %s share one copy", p)
		}

		stop := errors.New("stop")
		calls := 0
		err = db.Each(func(Record) error { calls++; return stop })
		require.ErrorIs(t, err, stop)
		assert.Equal(t, 1, calls)
		assert.NotErrorIs(t, err, ErrCorrupt)

		assert.PanicsWithValue(t, "callback bug", func() {
			_ = db.Each(func(Record) error { panic("callback bug") })
		}, "a panic in fn is fn's, not a damaged page")
		require.NoError(t, db.Check(), "the database stays usable")
	}
}

// TestPolicyFileSize: ten thousand tokens made from forty policies of
// about 4 KB store forty policies: the file stays small.
func TestPolicyFileSize(t *testing.T) {
	t.Parallel()
	for _, key := range [][]byte{nil, testEncKey} {
		path := filepath.Join(t.TempDir(), "tokens.db")
		db := openAt(t, path, func(o *Options) { o.EncryptionKey = key })
		prompt := strings.Repeat("You are a careful assistant. ", 140)
		policies := make([]json.RawMessage, 10_000)
		for i := range policies {
			policies[i] = json.RawMessage(fmt.Sprintf(`{"model":"gpt-4o","prompts":[{"role":"system","content":%q}],"metadata":{"team":"team-%d"}}`, prompt, i%40))
		}
		require.Greater(t, len(policies[0]), 4000)
		_, err := db.CreateMany(policies, nil)
		require.NoError(t, err)
		requireRefs(t, db)
		require.NoError(t, db.Close())
		st, err := os.Stat(path)
		require.NoError(t, err)
		t.Logf("encrypted %v: %d bytes", key != nil, st.Size())
		assert.Less(t, st.Size(), int64(5<<20), "10,000 tokens of 40 policies: %d bytes", st.Size())
		assert.Len(t, rawPolicies(t, path), 40)
	}
}

// TestPolicyRefCorruption: a record naming a missing policy is damage
// Open reports; counts that do not match the records are repaired by a
// writable open (an orphan dropped), and a sealed policy moved under
// another key does not open.
func TestPolicyRefCorruption(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(tx *bbolt.Tx, keys [][]byte) error
		check  func(t *testing.T, path string)
	}{
		{"dangling reference", func(tx *bbolt.Tx, keys [][]byte) error {
			return tx.Bucket(bucketPolicies).Delete(keys[0])
		}, func(t *testing.T, path string) {
			_, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: testEncKey})
			require.ErrorIs(t, err, ErrCorrupt)
		}},
		{"wrong count and an orphan", func(tx *bbolt.Tx, keys [][]byte) error {
			pols := tx.Bucket(bucketPolicies)
			if err := pols.Put(keys[0], withRefs(pols.Get(keys[0]), 9)); err != nil {
				return err
			}
			return pols.Put(bytes.Repeat([]byte{1}, policyKeyLen), withRefs(pols.Get(keys[1]), 2))
		}, func(t *testing.T, path string) {
			ro, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: testEncKey, ReadOnly: true})
			require.NoError(t, err)
			recs, err := ro.List()
			require.NoError(t, err)
			require.Len(t, recs, 3)
			require.NoError(t, ro.Close())
			db := openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
			requireRefs(t, db)
		}},
		{"policy planted in the clear, healed by a write of it", func(tx *bbolt.Tx, _ [][]byte) error {
			pols := tx.Bucket(bucketPolicies)
			h, err := NewHasher(testHashKey)
			if err != nil {
				return err
			}
			k := newPolicyKeyer(h).of(policyJSON("a"))
			planted, err := codec{}.encodeBlob(k, blobRefs(pols.Get(k[:])), json.RawMessage(`{}`))
			if err != nil {
				return err
			}
			return pols.Put(k[:], planted)
		}, func(t *testing.T, path string) {
			db := openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
			recs, err := db.List()
			require.NoError(t, err)
			require.Len(t, recs, 1, "the two records naming the planted policy are refused")
			_, _, err = db.Create(policyJSON("a"), nil)
			require.NoError(t, err)
			recs, err = db.List()
			require.NoError(t, err)
			require.Len(t, recs, 4)
			for _, r := range recs {
				assert.NotEqual(t, `{}`, string(r.Policy))
			}
			requireRefs(t, db)
		}},
		{"sealed policies swapped", func(tx *bbolt.Tx, keys [][]byte) error {
			pols := tx.Bucket(bucketPolicies)
			a, b := bytes.Clone(pols.Get(keys[0])), bytes.Clone(pols.Get(keys[1]))
			binary := func(v []byte, refs []byte) []byte { return append(append([]byte(nil), refs[:8]...), v[8:]...) }
			if err := pols.Put(keys[0], binary(b, a)); err != nil {
				return err
			}
			return pols.Put(keys[1], binary(a, b))
		}, func(t *testing.T, path string) {
			db := openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
			_, err := db.List()
			require.ErrorIs(t, err, ErrDecrypt)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tokens.db")
			db := openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
			_, err := db.CreateMany([]json.RawMessage{policyJSON("a"), policyJSON("a"), policyJSON("b")}, nil)
			require.NoError(t, err)
			require.NoError(t, db.Close())
			bdb, err := bbolt.Open(path, 0o600, nil)
			require.NoError(t, err)
			require.NoError(t, bdb.Update(func(tx *bbolt.Tx) error {
				var keys [][]byte
				_ = tx.Bucket(bucketPolicies).ForEach(func(k, _ []byte) error {
					keys = append(keys, bytes.Clone(k))
					return nil
				})
				return tc.tamper(tx, keys)
			}))
			require.NoError(t, bdb.Close())
			tc.check(t, path)
		})
	}
}
