package rollup

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "u.db"), 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var t0 = time.Date(2026, 12, 7, 10, 0, 30, 0, time.UTC)

func TestAggregatorDrain(t *testing.T) {
	t.Parallel()
	a := NewAggregator()
	a.Record("h1", "gpt-4o", "openai", t0, Usage{Input: 10, CachedInput: 2, Output: 5, Reasoning: 1, CostMicros: 7})
	a.Record("h1", "gpt-4o", "openai", t0.Add(10*time.Second), Usage{Input: 1, Output: 1})
	a.Record("h1", "gpt-4o", "openai", t0.Add(time.Minute), Usage{Input: 3})
	a.Refuse("h1", "o3", "", t0, "model_not_allowed")
	a.Refuse("h1", "o3", "", t0, "model_not_allowed")
	rows := a.Drain()
	require.Len(t, rows, 3)
	m := t0.Unix() - 30
	require.Equal(t, Row{Key: Key{Token: "h1", Model: "gpt-4o", Provider: "openai", Minute: m},
		Counts: Counts{Requests: 2, InputTokens: 11, CachedInputTokens: 2, OutputTokens: 6, ReasoningTokens: 1, CostMicros: 7}}, rows[0])
	require.Equal(t, map[string]int64{"model_not_allowed": 2}, rows[1].Refusals)
	require.Equal(t, m+60, rows[2].Minute)
	require.Empty(t, a.Drain(), "a drained aggregator has nothing new")
	require.Empty(t, a.rows, "idle entries are dropped at the next drain")
}

func TestAggregatorRecordAllocs(t *testing.T) {
	a := NewAggregator()
	now := time.Now()
	a.Record("h", "m", "p", now, Usage{Input: 1})
	a.Refuse("h", "m", "p", now, "x")
	allocs := testing.AllocsPerRun(1000, func() {
		a.Record("h", "m", "p", now, Usage{Input: 1, Output: 2})
		a.Refuse("h", "m", "p", now, "x")
	})
	require.Zero(t, allocs)
	var nilAgg *Aggregator
	nilAgg.Record("h", "m", "p", now, Usage{}) // a proxy without rollups
}

func TestReport(t *testing.T) {
	t.Parallel()
	m := t0.Unix() - 30
	rows := []Row{
		{Key: Key{Token: "aaaaaaaaaaaa", Model: "a", Provider: "p", Minute: m}, Counts: Counts{Requests: 1}},
		{Key: Key{Token: "aaaaaaaabbbb", Model: "b", Provider: "p", Minute: m + 86400}, Counts: Counts{Requests: 2}},
	}
	tests := []struct {
		name, by string
		want     map[string]int64
	}{
		{name: "token", by: ByToken, want: map[string]int64{"aaaaaaaa": 3}},
		{name: "model", by: ByModel, want: map[string]int64{"a": 1, "b": 2}},
		{name: "provider", by: ByProvider, want: map[string]int64{"p": 3}},
		{name: "day", by: ByDay, want: map[string]int64{"2026-12-07": 1, "2026-12-08": 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Report(rows, tc.by, 8)
			require.NoError(t, err)
			got := map[string]int64{}
			for _, r := range rep {
				got[r.Group] = r.Requests
			}
			require.Equal(t, tc.want, got)
		})
	}
	_, err := Report(rows, "week", 8)
	require.Error(t, err)
}

func TestBatchCheck(t *testing.T) {
	t.Parallel()
	good := Row{Key: Key{Token: "h", Model: "m", Provider: "p", Minute: 120}, Counts: Counts{Requests: 1}}
	tests := []struct {
		name string
		b    Batch
		ok   bool
	}{
		{name: "good", b: Batch{ID: "x-1", Rows: []Row{good}}, ok: true},
		{name: "no id", b: Batch{Rows: []Row{good}}},
		{name: "odd minute", b: Batch{ID: "x", Rows: []Row{{Key: Key{Minute: 61}}}}},
		{name: "negative", b: Batch{ID: "x", Rows: []Row{{Key: Key{Minute: 60}, Counts: Counts{InputTokens: -1}}}}},
		{name: "nul", b: Batch{ID: "x", Rows: []Row{{Key: Key{Model: "a\x00b", Minute: 60}}}}},
		{name: "empty refusal", b: Batch{ID: "x", Rows: []Row{{Key: Key{Minute: 60}, Counts: Counts{Refusals: map[string]int64{"": 1}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.b.Check()
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrBadBatch)
			}
		})
	}
}

func FuzzBatchCheck(f *testing.F) {
	f.Add([]byte(`{"id":"a-1","rows":[{"token_hash":"h","model":"m","provider":"p","minute":60,"requests":1}]}`))
	f.Add([]byte(`{"id":"","rows":[{"minute":-1,"refusals":{"":-1}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Batch
		if json.Unmarshal(data, &b) != nil || b.Check() != nil {
			return
		}
		// What passes Check is storable and queryable.
		s, err := NewBoltStore(openDB(t), "u")
		require.NoError(t, err)
		_, err = s.Add(context.Background(), &b)
		require.NoError(t, err)
		_, err = s.Query(context.Background(), time.Time{})
		require.NoError(t, err)
	})
}

// TestShipperRetriesUntilAcknowledged: a batch stays in the outbox while
// central fails and is sent, with the same id, once it answers; a restart
// (a new Shipper on the same file) keeps the sequence going.
func TestShipperRetriesUntilAcknowledged(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	fail.Store(true)
	var ids []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" || r.URL.Path != Path {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var b Batch
		require.NoError(t, json.NewDecoder(r.Body).Decode(&b))
		ids = append(ids, b.ID)
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	db := openDB(t)
	mk := func() *Shipper {
		s, err := NewShipper(ShipperOptions{DB: db, Instance: "px1", URLs: []string{srv.URL}, APIKey: "k", Interval: time.Hour})
		require.NoError(t, err)
		return s
	}
	s := mk()
	s.Aggregator().Record("h", "m", "p", t0, Usage{Input: 1})
	require.NoError(t, s.Flush())
	s.send(context.Background())
	require.Equal(t, 1, s.Pending())
	s2 := mk() // a restart
	s2.Aggregator().Record("h", "m", "p", t0, Usage{Input: 1})
	require.NoError(t, s2.Flush())
	fail.Store(false)
	s2.send(context.Background())
	require.Equal(t, 0, s2.Pending())
	require.Len(t, ids, 3)
	require.Equal(t, ids[0], ids[1], "the retried batch keeps its id")
	require.NotEqual(t, ids[1], ids[2])
	rows, err := s2.Local().Query(context.Background(), time.Time{})
	require.NoError(t, err)
	require.EqualValues(t, 2, rows[0].Requests, "both batches are in the local store")
}

// TestShipperFailsOverReplicas: with several central replicas, a batch the
// first cannot take (down, or answering 503) goes to the next, and the
// shipper stays with the replica that took it; a refusal (400) is an
// answer and is not sent to another replica.
func TestShipperFailsOverReplicas(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string][]string{} // replica → batch ids
	replica := func(name string, status *atomic.Int32) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var b Batch
			require.NoError(t, json.NewDecoder(r.Body).Decode(&b))
			mu.Lock()
			got[name] = append(got[name], b.ID)
			mu.Unlock()
			w.WriteHeader(int(status.Load()))
		}))
	}
	var aStatus, bStatus atomic.Int32
	aStatus.Store(http.StatusServiceUnavailable)
	bStatus.Store(http.StatusOK)
	a, b := replica("a", &aStatus), replica("b", &bStatus)
	defer a.Close()
	defer b.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // nothing listens there

	s, err := NewShipper(ShipperOptions{DB: openDB(t), Instance: "px1", URLs: []string{downURL, a.URL, b.URL}, Interval: time.Hour})
	require.NoError(t, err)
	ship := func() {
		s.Aggregator().Record("h", "m", "p", t0, Usage{Input: 1})
		require.NoError(t, s.Flush())
		s.send(context.Background())
	}
	ship()
	require.Equal(t, 0, s.Pending(), "taken by b after the dead replica and a's 503")
	aStatus.Store(http.StatusOK)
	ship()
	require.Equal(t, 0, s.Pending())
	mu.Lock()
	require.Len(t, got["a"], 1, "the second batch went straight to b, the replica that took the first")
	require.Len(t, got["b"], 2)
	mu.Unlock()

	bStatus.Store(http.StatusBadRequest)
	ship()
	require.Equal(t, 0, s.Pending(), "a refused batch is dropped from the outbox")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got["a"], 1, "a refusal is not retried on another replica")
	require.Len(t, got["b"], 3)
}
