package store

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// changeSummary is a Change without the record body, for compact tables.
type changeSummary struct {
	Rev     uint64
	Hash    string
	Deleted bool
}

func summarize(changes []Change) []changeSummary {
	out := []changeSummary{}
	for _, c := range changes {
		out = append(out, changeSummary{Rev: c.Revision, Hash: c.Hash, Deleted: c.Deleted})
		if !c.Deleted && (c.Record == nil || c.Record.Hash != c.Hash || c.Record.Revision != c.Revision) {
			panic("live change without its matching record")
		}
	}
	return out
}

func TestChangesSince(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	// rev 1: create a; 2: create b; 3: create c; 4: update a; 5: delete b; 6: create d
	a, b, c := mustCreate(t, db), mustCreate(t, db), mustCreate(t, db)
	_, err := db.Update(a.Hash, func(r *Record) error { r.Policy = policyJSON("a2"); return nil })
	require.NoError(t, err)
	_, err = db.Delete(b.Hash)
	require.NoError(t, err)
	d := mustCreate(t, db)

	tests := []struct {
		name    string
		since   uint64
		want    []changeSummary
		wantErr error
	}{
		{name: "full fetch", since: 0, want: []changeSummary{{3, c.Hash, false}, {4, a.Hash, false}, {6, d.Hash, false}}},
		{name: "since 1", since: 1, want: []changeSummary{{3, c.Hash, false}, {4, a.Hash, false}, {5, b.Hash, true}, {6, d.Hash, false}}},
		{name: "since 3", since: 3, want: []changeSummary{{4, a.Hash, false}, {5, b.Hash, true}, {6, d.Hash, false}}},
		{name: "since 4", since: 4, want: []changeSummary{{5, b.Hash, true}, {6, d.Hash, false}}},
		{name: "since 5", since: 5, want: []changeSummary{{6, d.Hash, false}}},
		{name: "up to date", since: 6, want: []changeSummary{}},
		{name: "ahead of the store", since: 7, wantErr: ErrResyncRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			changes, rev, err := db.Changes(tc.since)
			assert.Equal(t, uint64(6), rev)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, summarize(changes))
		})
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	central := openTest(t, nil)
	proxy := openTest(t, nil)

	token, a, err := central.Create(policyJSON("a"), nil)
	require.NoError(t, err)
	b := mustCreate(t, central)
	_, err = central.Delete(b.Hash)
	require.NoError(t, err)

	sync := func(since uint64) {
		t.Helper()
		changes, rev, err := central.Changes(since)
		require.NoError(t, err)
		require.NoError(t, proxy.Apply(changes, rev))
	}
	sync(0)
	assert.Equal(t, central.Revision(), proxy.Revision())
	got, err := proxy.Lookup(token)
	require.NoError(t, err, "same hash key, so the proxy finds the token")
	assert.Equal(t, a.Revision, got.Revision, "central revisions are kept")

	_, err = central.Update(a.Hash, func(r *Record) error { r.Policy = policyJSON("a2"); return nil })
	require.NoError(t, err)
	_, err = central.Delete(a.Hash)
	require.NoError(t, err)
	c := mustCreate(t, central)
	sync(3)

	_, err = proxy.Lookup(token)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = proxy.Get(c.Hash)
	require.NoError(t, err)
	pc, _, err := proxy.Changes(3)
	require.NoError(t, err)
	cc, _, err := central.Changes(3)
	require.NoError(t, err)
	assert.Equal(t, summarize(cc), summarize(pc), "the mirror has the central's feed")

	// Re-applying the same revision is harmless; going back is refused.
	require.NoError(t, proxy.Apply(nil, central.Revision()))
	err = proxy.Apply([]Change{{Revision: 1, Hash: a.Hash, Record: &a}}, 1)
	require.ErrorIs(t, err, ErrStaleRevision)
	assert.Equal(t, central.Revision(), proxy.Revision())
}

func TestApplyInvalidChanges(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	rec := &Record{Policy: policyJSON("m")}
	h := fakeHash("aa", '0')
	tests := []struct {
		name    string
		changes []Change
		rev     uint64
	}{
		{name: "bad hash", changes: []Change{{Revision: 1, Hash: "xyz", Record: rec}}, rev: 1},
		{name: "upper-case hash", changes: []Change{{Revision: 1, Hash: fakeHash("AA", '0'), Record: rec}}, rev: 1},
		{name: "zero revision", changes: []Change{{Revision: 0, Hash: h, Record: rec}}, rev: 1},
		{name: "revision past the target", changes: []Change{{Revision: 2, Hash: h, Record: rec}}, rev: 1},
		{name: "neither record nor deleted", changes: []Change{{Revision: 1, Hash: h}}, rev: 1},
		{name: "bad policy", changes: []Change{{Revision: 1, Hash: h, Record: &Record{Policy: []byte(`1`)}}}, rev: 1},
		{name: "duplicate revision", changes: []Change{{Revision: 1, Hash: h, Record: rec}, {Revision: 1, Hash: fakeHash("bb", '0'), Deleted: true}}, rev: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, db.Apply(tc.changes, tc.rev), ErrInvalidChange)
			assert.Zero(t, db.Revision())
		})
	}
}

func TestReplace(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	keep, drop := fakeHash("aa", '0'), fakeHash("bb", '0')
	require.NoError(t, db.Apply([]Change{
		{Revision: 1, Hash: keep, Record: &Record{Policy: policyJSON("old")}},
		{Revision: 2, Hash: drop, Record: &Record{Policy: policyJSON("x")}},
		{Revision: 3, Hash: fakeHash("cc", '0'), Deleted: true},
	}, 10))

	var seen []changeSummary
	cancel := db.Subscribe(func(c Change) { seen = append(seen, changeSummary{c.Revision, c.Hash, c.Deleted}) })
	defer cancel()

	// A full fetch from a central server restored to revision 4.
	require.NoError(t, db.Replace([]Change{{Revision: 4, Hash: keep, Record: &Record{Policy: policyJSON("new")}}}, 4))
	assert.Equal(t, uint64(4), db.Revision())
	assert.Equal(t, []changeSummary{{4, drop, true}, {4, keep, false}}, seen)

	list, err := db.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.JSONEq(t, `{"model":"new"}`, string(list[0].Policy))
	_, _, err = db.Changes(2)
	require.ErrorIs(t, err, ErrResyncRequired, "history before the replace is gone")
	changes, _, err := db.Changes(4)
	require.NoError(t, err)
	assert.Empty(t, changes)

	err = db.Replace([]Change{{Revision: 1, Hash: keep, Deleted: true}}, 5)
	require.ErrorIs(t, err, ErrInvalidChange)
}

func TestCompactAndResync(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &clock{t: t0}
	db := openTest(t, func(o *Options) { o.Now = clk.now; o.TombstoneRetention = time.Hour })
	a, b, c := mustCreate(t, db), mustCreate(t, db), mustCreate(t, db)
	_, err := db.Delete(a.Hash) // rev 4, deleted at t0
	require.NoError(t, err)
	clk.t = clk.t.Add(30 * time.Minute)
	_, err = db.Delete(b.Hash) // rev 5, deleted at t0+30m
	require.NoError(t, err)

	n, err := db.Compact(t0.Add(59 * time.Minute)) // cutoff t0-1m: nothing is old enough
	require.NoError(t, err)
	assert.Zero(t, n)

	n, err = db.Compact(t0.Add(61 * time.Minute)) // cutoff t0+1m: drops a's tombstone only
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	tests := []struct {
		name    string
		since   uint64
		want    []changeSummary
		wantErr error
	}{
		{name: "full fetch still works", since: 0, want: []changeSummary{{3, c.Hash, false}}},
		{name: "before the pruned tombstone", since: 3, wantErr: ErrResyncRequired},
		{name: "at the pruned tombstone", since: 4, want: []changeSummary{{5, b.Hash, true}}},
		{name: "after it", since: 5, want: []changeSummary{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changes, _, err := db.Changes(tc.since)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, summarize(changes))
		})
	}
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	var (
		mu   sync.Mutex
		seen []changeSummary
	)
	cancel := db.Subscribe(func(c Change) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, changeSummary{c.Revision, c.Hash, c.Deleted})
	})
	var other int
	cancelOther := db.Subscribe(func(Change) { other++ })

	a := mustCreate(t, db)
	_, err := db.Update(a.Hash, func(r *Record) error { return nil })
	require.NoError(t, err)
	_, err = db.Update(a.Hash, func(r *Record) error { return errSentinel })
	require.Error(t, err, "failed writes notify nobody")
	cancelOther()
	cancelOther() // idempotent
	_, err = db.Delete(a.Hash)
	require.NoError(t, err)
	h := fakeHash("aa", '0')
	require.NoError(t, db.Apply([]Change{{Revision: 9, Hash: h, Record: &Record{Policy: policyJSON("m")}}}, 10))
	cancel()
	mustCreate(t, db)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []changeSummary{{1, a.Hash, false}, {2, a.Hash, false}, {3, a.Hash, true}, {9, h, false}}, seen)
	assert.Equal(t, 2, other)
}

func TestSubscribeOrderUnderConcurrency(t *testing.T) {
	t.Parallel()
	db := openTest(t, nil)
	var revs []uint64 // written only by the subscriber, which runs under the write lock
	cancel := db.Subscribe(func(c Change) { revs = append(revs, c.Revision) })
	defer cancel()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				mustCreate(t, db)
			}
		})
	}
	wg.Wait()
	require.Len(t, revs, 40)
	for i, r := range revs {
		assert.Equal(t, uint64(i+1), r)
	}
}
