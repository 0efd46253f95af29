// Package storetest is the conformance suite every central store passes:
// the bbolt store (core/store) and the PostgreSQL one (core/store/pgstore)
// run the same table of cases, so the central server behaves the same on
// either.
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// HashKey is the hash key Open must use, so cases can compute hashes.
var HashKey = []byte("0123456789abcdef-conformance-hash-key")

// Opener returns a fresh, empty store keyed with HashKey, closed by the
// test's cleanup.
type Opener func(t *testing.T) store.Backend

// PluginOpener returns a fresh, empty plugin store.
type PluginOpener func(t *testing.T) store.PluginStore

func policy(s string) json.RawMessage { return json.RawMessage(`{"model":"` + s + `"}`) }

// Run runs every token case against stores from open.
func Run(t *testing.T, open Opener) {
	cases := []struct {
		name string
		run  func(t *testing.T, db store.Backend)
	}{
		{"create then lookup, get and resolve", testCreateLookup},
		{"unknown tokens and bad prefixes", testNotFound},
		{"every change bumps one revision", testRevisions},
		{"update keeps identity and bumps revision", testUpdate},
		{"update errors change nothing", testUpdateErrors},
		{"delete leaves a tombstone", testDelete},
		{"changes since a revision", testChanges},
		{"changes beyond the current revision need a resync", testChangesAhead},
		{"list is oldest first", testList},
		{"expiry round-trips", testExpiry},
		{"concurrent creates get distinct revisions", testConcurrent},
		{"subscribers see committed changes", testSubscribe},
		{"invalid policies are refused", testInvalidPolicy},
		{"check passes on a healthy store", func(t *testing.T, db store.Backend) { require.NoError(t, db.Check()) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, open(t))
		})
	}
}

func mustCreate(t *testing.T, db store.Backend, p json.RawMessage) (string, store.Record) {
	t.Helper()
	tok, rec, err := db.Create(p, nil)
	require.NoError(t, err)
	return tok, rec
}

func testCreateLookup(t *testing.T, db store.Backend) {
	tok, rec := mustCreate(t, db, policy("a"))
	require.True(t, store.ValidTokenFormat(tok))
	h, err := store.NewHasher(HashKey)
	require.NoError(t, err)
	assert.Equal(t, h.Hash(tok), rec.Hash)
	assert.EqualValues(t, 1, rec.Revision)
	for name, get := range map[string]func() (store.Record, error){
		"lookup":  func() (store.Record, error) { return db.Lookup(tok) },
		"get":     func() (store.Record, error) { return db.Get(rec.Hash) },
		"resolve": func() (store.Record, error) { return db.Resolve(rec.Hash[:8]) },
		"resolve upper case": func() (store.Record, error) {
			return db.Resolve(upper(rec.Hash[:10]))
		},
	} {
		got, err := get()
		require.NoError(t, err, name)
		assert.Equal(t, rec.Hash, got.Hash, name)
		assert.JSONEq(t, string(policy("a")), string(got.Policy), name)
		assert.EqualValues(t, 1, got.Revision, name)
		assert.True(t, rec.CreatedAt.Equal(got.CreatedAt), name)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func testNotFound(t *testing.T, db store.Backend) {
	_, rec := mustCreate(t, db, policy("a"))
	other, err := store.NewToken()
	require.NoError(t, err)
	_, err = db.Lookup(other)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.Lookup("not a token")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.Get(flip(rec.Hash))
	assert.ErrorIs(t, err, store.ErrNotFound)
	for _, p := range []string{"abc", "zzzz", rec.Hash + "0", "ab%_"} {
		_, err = db.Resolve(p)
		assert.ErrorIs(t, err, store.ErrInvalidPrefix, p)
	}
	_, err = db.Resolve(flip(rec.Hash)[:8])
	assert.ErrorIs(t, err, store.ErrNotFound)
}

// flip changes a hash's first character, keeping it a valid hash.
func flip(h string) string {
	c := byte('0')
	if h[0] == '0' {
		c = '1'
	}
	return string(c) + h[1:]
}

func testRevisions(t *testing.T, db store.Backend) {
	assert.EqualValues(t, 0, db.Revision())
	_, a := mustCreate(t, db, policy("a"))
	_, b := mustCreate(t, db, policy("b"))
	u, err := db.Update(a.Hash, func(r *store.Record) error { r.Policy = policy("a2"); return nil })
	require.NoError(t, err)
	_, err = db.Delete(b.Hash)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2, 3}, []uint64{a.Revision, b.Revision, u.Revision})
	assert.EqualValues(t, 4, db.Revision())
	_, cur, err := db.Changes(0)
	require.NoError(t, err)
	assert.EqualValues(t, 4, cur)
}

func testUpdate(t *testing.T, db store.Backend) {
	tok, rec := mustCreate(t, db, policy("a"))
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	u, err := db.Update(rec.Hash, func(r *store.Record) error {
		r.Policy = policy("b")
		r.ExpiresAt = &exp
		r.Hash = "ignored"
		r.Revision = 99
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, rec.Hash, u.Hash)
	assert.EqualValues(t, 2, u.Revision)
	assert.True(t, rec.CreatedAt.Equal(u.CreatedAt))
	got, err := db.Lookup(tok)
	require.NoError(t, err)
	assert.JSONEq(t, string(policy("b")), string(got.Policy))
	require.NotNil(t, got.ExpiresAt)
	assert.True(t, exp.Equal(*got.ExpiresAt))
	assert.EqualValues(t, 2, got.Revision)
}

func testUpdateErrors(t *testing.T, db store.Backend) {
	_, rec := mustCreate(t, db, policy("a"))
	boom := errors.New("boom")
	_, err := db.Update(rec.Hash, func(*store.Record) error { return boom })
	assert.ErrorIs(t, err, boom)
	_, err = db.Update(rec.Hash, func(r *store.Record) error { r.Policy = json.RawMessage(`[1]`); return nil })
	assert.ErrorIs(t, err, store.ErrInvalidPolicy)
	_, err = db.Update(flip(rec.Hash), func(*store.Record) error { return nil })
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.EqualValues(t, 1, db.Revision())
	got, err := db.Get(rec.Hash)
	require.NoError(t, err)
	assert.JSONEq(t, string(policy("a")), string(got.Policy))
}

func testDelete(t *testing.T, db store.Backend) {
	tok, rec := mustCreate(t, db, policy("a"))
	old, err := db.Delete(rec.Hash)
	require.NoError(t, err)
	assert.Equal(t, rec.Hash, old.Hash)
	_, err = db.Lookup(tok)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.Delete(rec.Hash)
	assert.ErrorIs(t, err, store.ErrNotFound)
	cs, cur, err := db.Changes(1)
	require.NoError(t, err)
	assert.EqualValues(t, 2, cur)
	require.Len(t, cs, 1)
	assert.Equal(t, store.Change{Revision: 2, Hash: rec.Hash, Deleted: true}, cs[0])
	cs, _, err = db.Changes(0)
	require.NoError(t, err)
	assert.Empty(t, cs, "a full fetch carries no tombstones")
}

func testChanges(t *testing.T, db store.Backend) {
	_, a := mustCreate(t, db, policy("a"))
	_, b := mustCreate(t, db, policy("b"))
	_, c := mustCreate(t, db, policy("c"))
	_, err := db.Update(a.Hash, func(r *store.Record) error { r.Policy = policy("a2"); return nil })
	require.NoError(t, err)
	_, err = db.Delete(b.Hash)
	require.NoError(t, err)
	tests := []struct {
		name  string
		since uint64
		want  []store.Change
	}{
		{"full", 0, []store.Change{{Revision: 3, Hash: c.Hash}, {Revision: 4, Hash: a.Hash}}},
		{"since 1", 1, []store.Change{{Revision: 3, Hash: c.Hash}, {Revision: 4, Hash: a.Hash}, {Revision: 5, Hash: b.Hash, Deleted: true}}},
		{"since 4", 4, []store.Change{{Revision: 5, Hash: b.Hash, Deleted: true}}},
		{"current", 5, nil},
	}
	for _, tc := range tests {
		cs, cur, err := db.Changes(tc.since)
		require.NoError(t, err, tc.name)
		assert.EqualValues(t, 5, cur, tc.name)
		require.Len(t, cs, len(tc.want), tc.name)
		for i, w := range tc.want {
			assert.Equal(t, w.Revision, cs[i].Revision, tc.name)
			assert.Equal(t, w.Hash, cs[i].Hash, tc.name)
			assert.Equal(t, w.Deleted, cs[i].Deleted, tc.name)
			if !w.Deleted {
				require.NotNil(t, cs[i].Record, tc.name)
				assert.Equal(t, w.Revision, cs[i].Record.Revision, tc.name)
			}
		}
	}
	cs, _, err := db.Changes(3)
	require.NoError(t, err)
	assert.JSONEq(t, string(policy("a2")), string(cs[0].Record.Policy))
}

func testChangesAhead(t *testing.T, db store.Backend) {
	mustCreate(t, db, policy("a"))
	_, _, err := db.Changes(2)
	assert.ErrorIs(t, err, store.ErrResyncRequired)
}

func testList(t *testing.T, db store.Backend) {
	var want []string
	for i := range 5 {
		_, rec := mustCreate(t, db, policy(fmt.Sprint(i)))
		want = append(want, rec.Hash)
	}
	recs, err := db.List()
	require.NoError(t, err)
	require.Len(t, recs, 5)
	for i := 1; i < len(recs); i++ {
		a, b := recs[i-1], recs[i]
		assert.True(t, a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.Hash < b.Hash))
	}
	got := map[string]bool{}
	for _, r := range recs {
		got[r.Hash] = true
	}
	for _, h := range want {
		assert.True(t, got[h])
	}
}

func testExpiry(t *testing.T, db store.Backend) {
	exp := time.Date(2031, 1, 2, 3, 4, 5, 6000, time.UTC)
	tok, _, err := db.Create(policy("a"), &exp)
	require.NoError(t, err)
	got, err := db.Lookup(tok)
	require.NoError(t, err)
	require.NotNil(t, got.ExpiresAt)
	assert.True(t, exp.Equal(*got.ExpiresAt))
	assert.False(t, got.Expired(exp.Add(-time.Second)))
	assert.True(t, got.Expired(exp))
}

func testConcurrent(t *testing.T, db store.Backend) {
	const n = 24
	var wg sync.WaitGroup
	revs := make(chan uint64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, rec, err := db.Create(policy(fmt.Sprint(i)), nil)
			assert.NoError(t, err)
			revs <- rec.Revision
		}()
	}
	wg.Wait()
	close(revs)
	seen := map[uint64]bool{}
	for r := range revs {
		assert.False(t, seen[r], "revision %d twice", r)
		assert.True(t, r >= 1 && r <= n)
		seen[r] = true
	}
	assert.EqualValues(t, n, db.Revision())
	cs, _, err := db.Changes(0)
	require.NoError(t, err)
	assert.Len(t, cs, n)
}

func testSubscribe(t *testing.T, db store.Backend) {
	got := make(chan store.Change, 16)
	cancel := db.SubscribeBatch(func(cs []store.Change) {
		for _, c := range cs {
			got <- c
		}
	})
	defer cancel()
	_, rec := mustCreate(t, db, policy("a"))
	_, err := db.Delete(rec.Hash)
	require.NoError(t, err)
	// A subscriber behind the feed may get only a hash's latest change
	// (the feed keeps one per hash), but always in revision order and
	// always up to the newest.
	var last uint64
	deadline := time.After(10 * time.Second)
	for last < 2 {
		select {
		case c := <-got:
			assert.Greater(t, c.Revision, last, "revision order")
			assert.Equal(t, rec.Hash, c.Hash)
			assert.Equal(t, c.Revision == 2, c.Deleted)
			last = c.Revision
		case <-deadline:
			t.Fatalf("no notification of revision 2 (last %d)", last)
		}
	}
}

func testInvalidPolicy(t *testing.T, db store.Backend) {
	for _, p := range []string{``, `[]`, `"x"`, `{`, `null`} {
		_, _, err := db.Create(json.RawMessage(p), nil)
		assert.ErrorIs(t, err, store.ErrInvalidPolicy, p)
	}
	assert.EqualValues(t, 0, db.Revision())
}

// RunPlugins runs the plugin store cases against stores from open.
func RunPlugins(t *testing.T, open PluginOpener) {
	cases := []struct {
		name string
		run  func(t *testing.T, ps store.PluginStore)
	}{
		{"put and read back", testPluginPut},
		{"a failed transaction writes nothing", testPluginRollback},
		{"delete", testPluginDelete},
		{"concurrent writers serialize", testPluginConcurrent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func testPluginPut(t *testing.T, ps store.PluginStore) {
	require.NoError(t, ps.UpdatePlugins(func(tx store.PluginTx) error {
		if err := tx.PutEntry("b/22", []byte(`{"n":"b"}`)); err != nil {
			return err
		}
		if err := tx.PutEntry("a/11", []byte(`{"n":"a"}`)); err != nil {
			return err
		}
		if err := tx.PutBlob("11", []byte{0, 'a', 's', 'm'}); err != nil {
			return err
		}
		return tx.SetRevision(7)
	}))
	require.NoError(t, ps.ViewPlugins(func(tx store.PluginTx) error {
		rev, err := tx.Revision()
		require.NoError(t, err)
		assert.EqualValues(t, 7, rev)
		v, err := tx.Entry("a/11")
		require.NoError(t, err)
		assert.Equal(t, `{"n":"a"}`, string(v))
		v, err = tx.Entry("c/33")
		require.NoError(t, err)
		assert.Nil(t, v)
		b, err := tx.Blob("11")
		require.NoError(t, err)
		assert.Equal(t, []byte{0, 'a', 's', 'm'}, b)
		b, err = tx.Blob("22")
		require.NoError(t, err)
		assert.Nil(t, b)
		var keys []string
		require.NoError(t, tx.Entries(func(k string, _ []byte) error { keys = append(keys, k); return nil }))
		assert.Equal(t, []string{"a/11", "b/22"}, keys)
		return nil
	}))
}

func testPluginRollback(t *testing.T, ps store.PluginStore) {
	boom := errors.New("boom")
	err := ps.UpdatePlugins(func(tx store.PluginTx) error {
		if err := tx.PutEntry("a/11", []byte(`{}`)); err != nil {
			return err
		}
		if err := tx.SetRevision(1); err != nil {
			return err
		}
		return boom
	})
	assert.ErrorIs(t, err, boom)
	require.NoError(t, ps.ViewPlugins(func(tx store.PluginTx) error {
		rev, err := tx.Revision()
		require.NoError(t, err)
		assert.EqualValues(t, 0, rev)
		v, err := tx.Entry("a/11")
		require.NoError(t, err)
		assert.Nil(t, v)
		return nil
	}))
}

func testPluginDelete(t *testing.T, ps store.PluginStore) {
	require.NoError(t, ps.UpdatePlugins(func(tx store.PluginTx) error {
		_ = tx.PutEntry("a/11", []byte(`{}`))
		return tx.PutBlob("11", []byte("x"))
	}))
	require.NoError(t, ps.UpdatePlugins(func(tx store.PluginTx) error {
		if err := tx.DeleteEntry("a/11"); err != nil {
			return err
		}
		if err := tx.DeleteBlob("11"); err != nil {
			return err
		}
		return tx.DeleteBlob("absent")
	}))
	require.NoError(t, ps.ViewPlugins(func(tx store.PluginTx) error {
		v, _ := tx.Entry("a/11")
		b, _ := tx.Blob("11")
		assert.Nil(t, v)
		assert.Nil(t, b)
		return nil
	}))
}

func testPluginConcurrent(t *testing.T, ps store.PluginStore) {
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, ps.UpdatePlugins(func(tx store.PluginTx) error {
				rev, err := tx.Revision()
				if err != nil {
					return err
				}
				return tx.SetRevision(rev + 1)
			}))
		}()
	}
	wg.Wait()
	require.NoError(t, ps.ViewPlugins(func(tx store.PluginTx) error {
		rev, err := tx.Revision()
		require.NoError(t, err)
		assert.EqualValues(t, n, rev, "a read-modify-write lost an update")
		return nil
	}))
}
