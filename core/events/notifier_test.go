package events

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// revServer records the revisions of the notices it receives; while gate
// is held it blocks every request, so a test can pile changes up behind an
// attempt in flight.
type revServer struct {
	*httptest.Server
	mu   sync.Mutex
	revs []uint64
	gate sync.RWMutex
}

func newRevServer(t *testing.T) *revServer {
	t.Helper()
	s := &revServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.gate.RLock()
		defer s.gate.RUnlock()
		body, _ := io.ReadAll(r.Body)
		var ev Event
		_ = json.Unmarshal(body, &ev)
		s.mu.Lock()
		s.revs = append(s.revs, ev.Revision)
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *revServer) seen() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.revs...)
}

func openNoticeDB(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	return db
}

func tokenEvent(rev uint64) Event {
	ev, _ := New(TokenDeleted, SourceCentral, rev, TokenData{TokenHashPrefix: "abcd1234"})
	return ev
}

// TestNotifierCoalesces: changes noted while a delivery is in flight
// collapse into one delivery of the newest revision.
func TestNotifierCoalesces(t *testing.T) {
	t.Parallel()
	srv := newRevServer(t)
	db := openNoticeDB(t, filepath.Join(t.TempDir(), "n.db"))
	defer db.Close()
	n, err := NewNotifier(nil, NotifierConfig{DB: db, Targets: []Target{{URL: srv.URL, SigningKey: "k", Events: []string{"token.*"}}}})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	defer n.Close(context.Background())

	srv.gate.Lock()
	require.NoError(t, n.Note(tokenEvent(1)))
	time.Sleep(50 * time.Millisecond) // the worker is now blocked on revision 1
	for rev := uint64(2); rev <= 500; rev++ {
		require.NoError(t, n.Note(tokenEvent(rev)))
	}
	srv.gate.Unlock()
	require.Eventually(t, func() bool {
		s := srv.seen()
		return len(s) > 0 && s[len(s)-1] == 500
	}, 10*time.Second, 5*time.Millisecond)
	require.LessOrEqual(t, len(srv.seen()), 3, "pushes: %v", srv.seen())
	require.Eventually(t, func() bool { return n.Stats()[0].Pending == 0 }, 5*time.Second, 5*time.Millisecond)
	st := n.Stats()[0]
	require.Equal(t, uint64(500), st.Sent["token"])
}

// TestNotifierDurable: a notice written in the change's transaction and
// not delivered before the process stopped is sent by the next Start.
func TestNotifierDurable(t *testing.T) {
	t.Parallel()
	srv := newRevServer(t)
	path := filepath.Join(t.TempDir(), "n.db")
	targets := []Target{{URL: srv.URL, Secret: "s", Events: []string{"token.*"}}}

	db := openNoticeDB(t, path)
	n, err := NewNotifier(nil, NotifierConfig{DB: db, Targets: targets})
	require.NoError(t, err)
	// Not started: the change and its notice commit together, nothing is sent.
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("data"))
		if err != nil {
			return err
		}
		if err := b.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		return n.NoteTx(tx, tokenEvent(7))
	}))
	require.NoError(t, n.Close(context.Background()))
	require.NoError(t, db.Close())
	require.Empty(t, srv.seen())

	db = openNoticeDB(t, path)
	defer db.Close()
	n, err = NewNotifier(nil, NotifierConfig{DB: db, Targets: targets})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	defer n.Close(context.Background())
	require.Eventually(t, func() bool { return len(srv.seen()) == 1 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, []uint64{7}, srv.seen())
	// Delivered notices are cleared from the file.
	require.Eventually(t, func() bool {
		empty := true
		_ = db.View(func(tx *bolt.Tx) error {
			top := tx.Bucket([]byte(DefaultNoticeBucket))
			return top.ForEachBucket(func(k []byte) error {
				if top.Bucket(k).Stats().KeyN > 0 {
					empty = false
				}
				return nil
			})
		})
		return empty
	}, 5*time.Second, 5*time.Millisecond)
}

// TestNotifierRollback: a notice in a transaction that fails is not sent.
func TestNotifierRollback(t *testing.T) {
	t.Parallel()
	srv := newRevServer(t)
	db := openNoticeDB(t, filepath.Join(t.TempDir(), "n.db"))
	defer db.Close()
	n, err := NewNotifier(nil, NotifierConfig{DB: db, Targets: []Target{{URL: srv.URL, Secret: "s"}}})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	defer n.Close(context.Background())
	err = db.Update(func(tx *bolt.Tx) error {
		if err := n.NoteTx(tx, tokenEvent(3)); err != nil {
			return err
		}
		return io.ErrUnexpectedEOF
	})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.NoError(t, n.Note(tokenEvent(4)))
	require.Eventually(t, func() bool { return len(srv.seen()) == 1 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, []uint64{4}, srv.seen())
}

// TestNotifierBacksOff: a failing target is retried with growing pauses,
// and a new notice does not make it retry faster than BaseDelay.
func TestNotifierBacksOff(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var hits []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, time.Now())
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	db := openNoticeDB(t, filepath.Join(t.TempDir(), "n.db"))
	defer db.Close()
	n, err := NewNotifier(nil, NotifierConfig{DB: db, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second,
		Targets: []Target{{URL: srv.URL, Secret: "s"}}})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	defer n.Close(context.Background())
	start := time.Now()
	for rev := uint64(1); rev <= 200; rev++ {
		require.NoError(t, n.Note(tokenEvent(rev)))
	}
	time.Sleep(600 * time.Millisecond)
	mu.Lock()
	count := 0
	for _, h := range hits {
		if !h.Before(start) {
			count++
		}
	}
	mu.Unlock()
	// 200 changes, but at most one attempt per BaseDelay after the last
	// one, and fewer as the backoff grows. Attempts are spaced from their
	// start, while hits are stamped on arrival; on a loaded machine a late
	// arrival can sit next to the following one, hence the slack of three.
	limit := int(time.Since(start)/(100*time.Millisecond)) + 3
	require.GreaterOrEqual(t, count, 1)
	require.LessOrEqual(t, count, limit, "attempts in %s", time.Since(start))
	st := n.Stats()[0]
	require.Equal(t, 1, st.Pending)
	require.NotEmpty(t, st.LastError)
}
