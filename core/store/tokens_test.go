package store

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateLookupGet(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	db := openTest(t, func(o *Options) { o.Now = clk.now })
	exp := clk.t.Add(time.Hour)

	token, rec, err := db.Create(json.RawMessage(` {"model": "gpt-4o"} `), &exp)
	require.NoError(t, err)
	assert.True(t, ValidTokenFormat(token))
	assert.Equal(t, db.Hasher().Hash(token), rec.Hash)
	assert.Equal(t, uint64(1), rec.Revision)
	assert.Equal(t, clk.t, rec.CreatedAt)
	assert.Equal(t, clk.t, rec.UpdatedAt)
	require.NotNil(t, rec.ExpiresAt)
	assert.True(t, exp.Equal(*rec.ExpiresAt))
	assert.Equal(t, uint64(1), db.Revision())

	got, err := db.Lookup(token)
	require.NoError(t, err)
	assert.Equal(t, rec.Hash, got.Hash)
	assert.JSONEq(t, `{"model":"gpt-4o"}`, string(got.Policy))
	assert.True(t, rec.CreatedAt.Equal(got.CreatedAt))
	assert.Equal(t, uint64(1), got.Revision)

	byHash, err := db.Get(rec.Hash)
	require.NoError(t, err)
	assert.Equal(t, got, byHash)

	other, _ := NewToken()
	tests := []struct {
		name  string
		token string
	}{
		{name: "unknown token", token: other},
		{name: "malformed token", token: "tkn_short"},
		{name: "hash instead of token", token: rec.Hash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Lookup(tc.token)
			require.ErrorIs(t, err, ErrNotFound)
		})
	}
	_, err = db.Get(fakeHash("", '0'))
	require.ErrorIs(t, err, ErrNotFound)
}

func TestCreateRejectsNonObjectPolicy(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	for _, p := range []string{``, `null`, `[]`, `"x"`, `{`, `{"a":1}x`} {
		_, _, err := db.Create(json.RawMessage(p), nil)
		require.ErrorIs(t, err, ErrInvalidPolicy, "policy %q", p)
	}
	assert.Zero(t, db.Revision())
}

func TestResolve(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	// Chosen hashes, written through Apply, make prefixes predictable.
	hashes := []string{fakeHash("abcd1", '0'), fakeHash("abcd2", '0'), fakeHash("ef01", '9')}
	var changes []Change
	for i, h := range hashes {
		changes = append(changes, Change{Revision: uint64(i + 1), Hash: h, Record: &Record{Policy: policyJSON("m")}})
	}
	require.NoError(t, db.Apply(changes, 3))
	_, err := db.Delete(fakeHash("ef01", '9'))
	require.NoError(t, err)
	require.NoError(t, db.Apply([]Change{{Revision: 5, Hash: fakeHash("ef02", '1'), Record: &Record{Policy: policyJSON("m")}}}, 5))

	tests := []struct {
		name        string
		prefix      string
		want        string
		wantErr     error
		wantMatches []string
	}{
		{name: "unique", prefix: "abcd1", want: hashes[0]},
		{name: "unique upper case", prefix: "ABCD2", want: hashes[1]},
		{name: "full hash", prefix: hashes[1], want: hashes[1]},
		{name: "deleted is not found", prefix: "ef01", wantErr: ErrNotFound},
		{name: "live neighbour of a tombstone", prefix: "ef02", want: fakeHash("ef02", '1')},
		{name: "ambiguous", prefix: "abcd", wantErr: ErrAmbiguous, wantMatches: hashes[:2]},
		{name: "none", prefix: "0000", wantErr: ErrNotFound},
		{name: "too short", prefix: "abc", wantErr: ErrInvalidPrefix},
		{name: "empty", prefix: "", wantErr: ErrInvalidPrefix},
		{name: "not hex", prefix: "abcg", wantErr: ErrInvalidPrefix},
		{name: "too long", prefix: hashes[0] + "0", wantErr: ErrInvalidPrefix},
		{name: "token", prefix: "tkn_abcdefgh", wantErr: ErrInvalidPrefix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, err := db.Resolve(tc.prefix)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				var amb *AmbiguousError
				if errors.As(err, &amb) {
					assert.Equal(t, tc.wantMatches, amb.Matches)
					assert.Contains(t, err.Error(), "abcd1000")
					assert.Contains(t, err.Error(), "abcd2000")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, rec.Hash)
		})
	}
}

func TestAmbiguousErrorMessage(t *testing.T) {
	t.Parallel()
	var matches []string
	for i := range 12 {
		matches = append(matches, fakeHash("abcd"+string(rune('a'+i)), '0'))
	}
	err := &AmbiguousError{Prefix: "abcd", Matches: matches}
	assert.Contains(t, err.Error(), `prefix "abcd" matches 12 tokens: abcda0000000, abcdb0000000`)
	assert.Contains(t, err.Error(), "and 2 more")
	assert.NotContains(t, err.Error(), "abcdk")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	db := openTest(t, func(o *Options) { o.Now = clk.now })
	token, rec, err := db.Create(policyJSON("a"), nil)
	require.NoError(t, err)
	clk.t = clk.t.Add(time.Minute)
	exp := clk.t.Add(24 * time.Hour)

	got, err := db.Update(rec.Hash, func(r *Record) error {
		r.Policy = policyJSON("b")
		r.ExpiresAt = &exp
		r.Hash = "tampered"
		r.Revision = 99
		r.CreatedAt = time.Time{}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, rec.Hash, got.Hash)
	assert.Equal(t, uint64(2), got.Revision)
	assert.Equal(t, uint64(2), db.Revision())
	assert.Equal(t, rec.CreatedAt, got.CreatedAt)
	assert.Equal(t, clk.t, got.UpdatedAt)
	assert.JSONEq(t, `{"model":"b"}`, string(got.Policy))

	stored, err := db.Lookup(token)
	require.NoError(t, err)
	assert.Equal(t, got.Revision, stored.Revision)
	assert.JSONEq(t, `{"model":"b"}`, string(stored.Policy))
	require.NotNil(t, stored.ExpiresAt)
	assert.True(t, exp.Equal(*stored.ExpiresAt))

	// Only the latest revision of a record is in the change feed.
	changes, _, err := db.Changes(0)
	require.NoError(t, err)
	require.Len(t, changes, 1)
	assert.Equal(t, uint64(2), changes[0].Revision)

	tests := []struct {
		name    string
		hash    string
		fn      func(*Record) error
		wantErr error
	}{
		{name: "fn error aborts", hash: rec.Hash, fn: func(*Record) error { return errSentinel }, wantErr: errSentinel},
		{name: "invalid policy", hash: rec.Hash, fn: func(r *Record) error { r.Policy = json.RawMessage(`[1]`); return nil }, wantErr: ErrInvalidPolicy},
		{name: "unknown hash", hash: fakeHash("", 'f'), fn: func(*Record) error { return nil }, wantErr: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Update(tc.hash, tc.fn)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Equal(t, uint64(2), db.Revision(), "a failed update changes nothing")
		})
	}
}

var errSentinel = errors.New("sentinel")

func TestDeleteLeavesTombstone(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	token, rec, err := db.Create(policyJSON("a"), nil)
	require.NoError(t, err)

	old, err := db.Delete(rec.Hash)
	require.NoError(t, err)
	assert.Equal(t, rec.Hash, old.Hash)
	assert.Equal(t, uint64(2), db.Revision())

	_, err = db.Lookup(token)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = db.Delete(rec.Hash)
	require.ErrorIs(t, err, ErrNotFound)

	changes, rev, err := db.Changes(1)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), rev)
	assert.Equal(t, []Change{{Revision: 2, Hash: rec.Hash, Deleted: true}}, changes)

	all, _, err := db.Changes(0)
	require.NoError(t, err)
	assert.Empty(t, all, "a full fetch carries no tombstones")
}

func TestListOrder(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	db := openTest(t, func(o *Options) { o.Now = clk.now })
	var want []string
	for range 5 {
		want = append(want, mustCreate(t, db).Hash)
		clk.t = clk.t.Add(-time.Second) // later creations sort first if not ordered by time
	}
	list, err := db.List()
	require.NoError(t, err)
	var got []string
	for i := len(list) - 1; i >= 0; i-- {
		got = append(got, list[i].Hash)
	}
	assert.Equal(t, want, got)

	empty := openTest(t, nil)
	list, err = empty.List()
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestRecordExpired(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	before, after := now.Add(-time.Second), now.Add(time.Second)
	tests := []struct {
		name string
		exp  *time.Time
		want bool
	}{
		{name: "no expiry", exp: nil, want: false},
		{name: "past", exp: &before, want: true},
		{name: "exactly now", exp: &now, want: true},
		{name: "future", exp: &after, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, Record{ExpiresAt: tc.exp}.Expired(now))
		})
	}
}

func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	const workers, each = 8, 10
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		tokens = map[string]Record{}
		revs   = map[uint64]bool{}
	)
	for range workers {
		wg.Go(func() {
			for range each {
				token, rec, err := db.Create(policyJSON("m"), nil)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				tokens[token] = rec
				revs[rec.Revision] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, tokens, workers*each)
	assert.Len(t, revs, workers*each, "every create has its own revision")
	assert.Equal(t, uint64(workers*each), db.Revision())
	for token, rec := range tokens {
		got, err := db.Lookup(token)
		require.NoError(t, err)
		assert.Equal(t, rec.Revision, got.Revision)
	}
}
