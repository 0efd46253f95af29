package events

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"
)

// TestWakeOnEmit: a target that failed and sits in a long backoff is tried
// again as soon as a new event arrives, when WakeOnEmit is set, and not
// before its backoff otherwise.
func TestWakeOnEmit(t *testing.T) {
	t.Parallel()
	for _, wake := range []bool{true, false} {
		var up atomic.Bool
		var got atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !up.Load() {
				w.WriteHeader(503)
				return
			}
			got.Add(1)
			w.WriteHeader(202)
		}))
		d, err := NewDispatcher(hclog.NewNullLogger(), DispatcherConfig{
			Targets:    []Target{{URL: srv.URL, SigningKey: "k", Timeout: time.Second}},
			BaseDelay:  10 * time.Second, // the first failure pauses the target for a long time
			MaxDelay:   10 * time.Second,
			WakeOnEmit: wake,
		})
		require.NoError(t, err)
		require.NoError(t, d.Start())
		first, _ := New(TokenCreated, "test", 1, nil)
		d.Emit(first)
		require.Eventually(t, func() bool { return d.Stats().Retried > 0 || d.Stats().Failed > 0 }, 5*time.Second, 10*time.Millisecond)
		up.Store(true)
		second, _ := New(TokenDeleted, "test", 2, nil)
		d.Emit(second)
		if wake {
			require.Eventually(t, func() bool { return got.Load() == 2 }, 3*time.Second, 10*time.Millisecond)
		} else {
			time.Sleep(500 * time.Millisecond)
			require.Zero(t, got.Load(), "without WakeOnEmit the target stays paused")
		}
		_ = d.Close(t.Context())
		srv.Close()
	}
}
