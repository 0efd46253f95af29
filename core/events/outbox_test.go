package events

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func openDB(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	return db
}

// outboxCounts returns the number of records per target bucket.
func outboxCounts(t *testing.T, db *bolt.DB) map[string]int {
	t.Helper()
	counts := map[string]int{}
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		top := tx.Bucket([]byte(DefaultOutboxBucket))
		if top == nil {
			return nil
		}
		return top.ForEachBucket(func(k []byte) error {
			counts[string(k)] = top.Bucket(k).Stats().KeyN
			return nil
		})
	}))
	return counts
}

func closeNow(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, d.Close(ctx))
}

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	in := &delivery{eventID: "abc", eventType: TokenCreated, body: []byte(`{"id":"abc"}`),
		created: time.Unix(0, 1_750_000_000_123_456_789), attempts: 4}
	out, err := decodeRecord(9, encodeRecord(in))
	require.NoError(t, err)
	assert.Equal(t, uint64(9), out.seq)
	assert.Equal(t, in.eventID, out.eventID)
	assert.Equal(t, in.eventType, out.eventType)
	assert.Equal(t, in.body, out.body)
	assert.Equal(t, in.attempts, out.attempts)
	assert.True(t, in.created.Equal(out.created))
	assert.True(t, out.durable)

	tests := []struct {
		name string
		rec  []byte
	}{
		{name: "empty", rec: nil},
		{name: "wrong version", rec: []byte{9, 0, 0}},
		{name: "truncated", rec: encodeRecord(in)[:5]},
		{name: "length past end", rec: []byte{1, 0, 0, 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeRecord(1, tc.rec)
			require.ErrorIs(t, err, errBadRecord)
		})
	}
}

func TestDurableOutboxSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "central.db")
	srv := newScriptServer(t, reply{status: 503})
	target := Target{URL: srv.URL + "/v1/webhook", Secret: testSecret, SigningKey: testKey, Events: []string{"token.*"}}

	// First run: the endpoint fails once and the long backoff parks the
	// target, so nothing is delivered before shutdown.
	db := openDB(t, path)
	d1, err := NewDispatcher(nil, DispatcherConfig{Targets: []Target{target}, DB: db, BaseDelay: time.Hour, MaxDelay: time.Hour})
	require.NoError(t, err)
	require.NoError(t, d1.Start())
	var want []string
	for range 3 {
		ev := mustEvent(t, TokenCreated)
		want = append(want, ev.ID)
		d1.Emit(ev)
	}
	waitStats(t, d1, func(s Stats) bool { return s.Retried == 1 && s.Pending == 3 })
	closeNow(t, d1)
	assert.Equal(t, map[string]int{string(targetKey(target.URL)): 3}, outboxCounts(t, db))
	require.NoError(t, db.Close())

	// Second run: pending deliveries are resumed from the reopened file.
	db = openDB(t, path)
	t.Cleanup(func() { _ = db.Close() })
	var attempts int
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(DefaultOutboxBucket)).Bucket(targetKey(target.URL))
		k, v := b.Cursor().First()
		dl, err := decodeRecord(0, v)
		require.NotNil(t, k)
		attempts = dl.attempts
		return err
	}))
	assert.Equal(t, 1, attempts, "the failed attempt was recorded")

	d2 := newTestDispatcher(t, nil, DispatcherConfig{Targets: []Target{target}, DB: db})
	require.NoError(t, d2.Start())
	waitStats(t, d2, func(s Stats) bool { return s.Delivered == 3 && s.Pending == 0 })
	seen := srv.seen()
	assert.Equal(t, want, seen[1:], "all three delivered, in order, after the failed first attempt")
	assert.Equal(t, want[0], seen[0])
	assert.Empty(t, outboxCounts(t, db)[string(targetKey(target.URL))])
}

func TestDurableCloseWithoutStartPersists(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "o.db"))
	t.Cleanup(func() { _ = db.Close() })
	srv := newScriptServer(t)
	cfg := DispatcherConfig{Targets: []Target{{URL: srv.URL}}, DB: db}

	d1, err := NewDispatcher(nil, cfg)
	require.NoError(t, err)
	d1.Emit(mustEvent(t, PluginUploaded))
	d1.Emit(mustEvent(t, PluginDeleted))
	closeNow(t, d1)
	assert.Zero(t, d1.Stats().Dropped)
	assert.Equal(t, 2, outboxCounts(t, db)[string(targetKey(srv.URL))])

	d2 := newTestDispatcher(t, nil, cfg)
	require.NoError(t, d2.Start())
	waitStats(t, d2, func(s Stats) bool { return s.Delivered == 2 && s.Pending == 0 })
}

func TestDurableCloseDeadlineKeepsInFlight(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "o.db"))
	t.Cleanup(func() { _ = db.Close() })
	hung := newGateServer(t)
	d, err := NewDispatcher(nil, DispatcherConfig{Targets: []Target{{URL: hung.URL, Timeout: time.Hour}}, DB: db})
	require.NoError(t, err)
	require.NoError(t, d.Start())
	d.Emit(mustEvent(t, TokenUpdated))
	require.Eventually(t, func() bool { a, _ := hung.counts(); return a == 1 }, 10*time.Second, 5*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, d.Close(ctx), context.DeadlineExceeded)
	s := d.Stats()
	assert.Zero(t, s.Dropped, "durable deliveries are kept, not dropped")
	assert.Equal(t, uint64(1), s.Pending)
	assert.Equal(t, 1, outboxCounts(t, db)[string(targetKey(hung.URL))])
}

func TestEmitTx(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "o.db"))
	t.Cleanup(func() { _ = db.Close() })
	srv := newScriptServer(t)
	d := newTestDispatcher(t, nil, DispatcherConfig{Targets: []Target{{URL: srv.URL}}, DB: db})
	require.NoError(t, d.Start())

	rolledBack := mustEvent(t, TokenDeleted)
	errAbort := errors.New("abort")
	err := db.Update(func(tx *bolt.Tx) error {
		require.NoError(t, d.EmitTx(tx, rolledBack))
		return errAbort
	})
	require.ErrorIs(t, err, errAbort)

	committed := mustEvent(t, TokenCreated)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists([]byte("tokens")); err != nil {
			return err
		}
		return d.EmitTx(tx, committed)
	}))
	waitStats(t, d, func(s Stats) bool { return s.Delivered == 1 && s.Pending == 0 })
	assert.Equal(t, []string{committed.ID}, srv.seen())

	require.ErrorIs(t, db.View(func(tx *bolt.Tx) error { return d.EmitTx(tx, committed) }), ErrForeignTx)
	other := openDB(t, filepath.Join(t.TempDir(), "other.db"))
	t.Cleanup(func() { _ = other.Close() })
	require.ErrorIs(t, other.Update(func(tx *bolt.Tx) error { return d.EmitTx(tx, committed) }), ErrForeignTx)

	mem := newTestDispatcher(t, nil, DispatcherConfig{Targets: []Target{{URL: srv.URL}}})
	require.ErrorIs(t, db.Update(func(tx *bolt.Tx) error { return mem.EmitTx(tx, committed) }), ErrNotDurable)
}

func TestEmitTxBeforeStartIsCountedOnce(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "o.db"))
	t.Cleanup(func() { _ = db.Close() })
	srv := newScriptServer(t)
	d := newTestDispatcher(t, nil, DispatcherConfig{Targets: []Target{{URL: srv.URL}}, DB: db})
	for range 3 {
		require.NoError(t, db.Update(func(tx *bolt.Tx) error { return d.EmitTx(tx, mustEvent(t, TokenCreated)) }))
	}
	require.NoError(t, d.Start())
	waitStats(t, d, func(s Stats) bool { return s.Delivered == 3 && s.Pending == 0 })
	assert.Len(t, srv.seen(), 3, "each delivered once")
}

func TestDurableSpillsBeyondQueueSize(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "o.db"))
	t.Cleanup(func() { _ = db.Close() })
	gate := newGateServer(t)
	d := newTestDispatcher(t, nil, DispatcherConfig{
		Targets:   []Target{{URL: gate.URL, Timeout: time.Hour}},
		DB:        db,
		QueueSize: 2,
	})
	var want []string
	emit := func() {
		ev := mustEvent(t, TokenUpdated)
		want = append(want, ev.ID)
		require.NoError(t, db.Update(func(tx *bolt.Tx) error { return d.EmitTx(tx, ev) }))
	}
	// Before Start: resumed from the outbox two at a time.
	for range 10 {
		emit()
	}
	require.NoError(t, d.Start())
	require.Eventually(t, func() bool { a, _ := gate.counts(); return a == 1 }, 10*time.Second, 5*time.Millisecond)
	// While the target is stuck: memory fills and the rest spill.
	for range 10 {
		emit()
	}
	gate.release()
	waitStats(t, d, func(s Stats) bool { return s.Delivered == 20 && s.Pending == 0 })
	_, got := gate.counts()
	assert.Equal(t, want, got, "all delivered once, in order")
	assert.Zero(t, d.Stats().Dropped)
}

func TestStartDropsDeliveriesOfRemovedTargets(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "o.db"))
	t.Cleanup(func() { _ = db.Close() })
	old, kept := newScriptServer(t), newScriptServer(t)

	d1, err := NewDispatcher(nil, DispatcherConfig{Targets: []Target{{URL: old.URL}, {URL: kept.URL}}, DB: db})
	require.NoError(t, err)
	d1.Emit(mustEvent(t, TokenCreated))
	closeNow(t, d1)
	require.Len(t, outboxCounts(t, db), 2)

	d2 := newTestDispatcher(t, nil, DispatcherConfig{Targets: []Target{{URL: kept.URL}}, DB: db})
	require.NoError(t, d2.Start())
	waitStats(t, d2, func(s Stats) bool { return s.Delivered == 1 && s.Failed == 1 && s.Pending == 0 })
	assert.Empty(t, old.seen())
	assert.Equal(t, map[string]int{string(targetKey(kept.URL)): 0}, outboxCounts(t, db))
}

func TestCorruptRecordIsDropped(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "o.db"))
	t.Cleanup(func() { _ = db.Close() })
	srv := newScriptServer(t)
	d := newTestDispatcher(t, nil, DispatcherConfig{Targets: []Target{{URL: srv.URL}}, DB: db})
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		if err := d.EmitTx(tx, mustEvent(t, TokenCreated)); err != nil {
			return err
		}
		b := tx.Bucket([]byte(DefaultOutboxBucket)).Bucket(targetKey(srv.URL))
		return b.Put(seqKey(1_000), []byte("garbage"))
	}))
	require.NoError(t, d.Start())
	waitStats(t, d, func(s Stats) bool { return s.Delivered == 1 && s.Failed == 1 && s.Pending == 0 })
	assert.Zero(t, outboxCounts(t, db)[string(targetKey(srv.URL))])
}

func TestReadOnlyDBRejected(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "o.db")
	require.NoError(t, openDB(t, path).Close())
	ro, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ro.Close() })
	_, err = NewDispatcher(nil, DispatcherConfig{DB: ro})
	require.ErrorIs(t, err, ErrBadConfig)
}
