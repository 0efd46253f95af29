package limits

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const failoverTimeout = 200 * time.Millisecond

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func newTestFailover(t *testing.T, addr string, mode FailMode, opts ...FailoverOption) (*Failover, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info})
	r, err := NewRedis(newTestClient(t, addr), RedisOptions{Timeout: failoverTimeout, Prefix: "tkntest"})
	require.NoError(t, err)
	m, err := NewMemory(MemoryOptions{Logger: logger})
	require.NoError(t, err)
	// One failed probe declares the outage here, so the tests below see it
	// at once; TestFailoverSlowIsNotDown covers the consecutive probes.
	opts = append([]FailoverOption{WithProbeInterval(50 * time.Millisecond), WithProbeFailures(1), WithProbeTimeout(failoverTimeout)}, opts...)
	f := NewFailover(r, m, mode, logger, opts...)
	t.Cleanup(func() { _ = f.Close() })
	return f, logs
}

func waitRestored(t *testing.T, f *Failover) {
	t.Helper()
	require.Eventually(t, func() bool { return !f.Degraded() }, 20*time.Second, 20*time.Millisecond, "redis never restored")
}

func TestFailoverClosed(t *testing.T) {
	tests := []struct {
		name string
		cut  func(outage, *testing.T)
	}{
		{"redis stopped", outage.down},
		{"redis frozen", outage.freeze},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOutage(t)
			f, logs := newTestFailover(t, o.addr(), FailClosed)
			ctx := context.Background()
			subject := uniqueSubject(t)
			req := func() *Request { return &Request{Subject: subject, Budgets: []Budget{{"", 1000}}, Reserve: 10} }
			l, err := f.Acquire(ctx, req())
			require.NoError(t, err)
			require.NoError(t, f.Settle(ctx, l, 10))

			tc.cut(o, t)
			start := time.Now()
			_, err = f.Acquire(ctx, req())
			elapsed := time.Since(start)
			require.ErrorIs(t, err, ErrUnavailable)
			// The first call of an outage waits for its own timeout and for the
			// probe that confirms the outage; later calls fail at once.
			assert.Less(t, elapsed, 3*failoverTimeout, "refused within two timeouts, no hang")
			assert.True(t, f.Degraded())
			for range 5 {
				start = time.Now()
				_, err = f.Acquire(ctx, req())
				require.ErrorIs(t, err, ErrUnavailable)
				assert.Less(t, time.Since(start), failoverTimeout, "while degraded Redis is not waited for")
			}
			assert.Equal(t, 1, logs.count("redis unreachable"), "one warning per outage")
			st := f.Stats()
			assert.Equal(t, uint64(1), st.Outages)
			assert.Equal(t, uint64(6), st.Unavailable)

			o.up(t)
			waitRestored(t, f)
			l, err = f.Acquire(ctx, req())
			require.NoError(t, err)
			require.NoError(t, f.Settle(ctx, l, 10))
			used, reserved, err := f.Spent(ctx, subject, "")
			require.NoError(t, err)
			assert.Equal(t, [2]int64{20, 0}, [2]int64{used, reserved}, "refusals consumed nothing")
			assert.Equal(t, 1, logs.count("redis reachable again"))
		})
	}
}

// TestFailoverOpen: during an outage requests run on local counters that
// start from the Redis totals; afterwards Redis holds every unit of usage:
// settled before, settled during (of Redis and local leases), and settled
// after the switch back by local leases still in flight.
func TestFailoverOpen(t *testing.T) {
	o := newOutage(t)
	f, logs := newTestFailover(t, o.addr(), FailOpen)
	ctx := context.Background()
	subject := uniqueSubject(t)
	req := func(reserve int64) *Request {
		return &Request{Subject: subject, Budgets: []Budget{{"", 1000}, {"openai/0", 5000}}, Reserve: reserve}
	}
	l, err := f.Acquire(ctx, req(100))
	require.NoError(t, err)
	require.NoError(t, f.Settle(ctx, l, 80))
	held, err := f.Acquire(ctx, req(100)) // Redis lease, settled mid-outage
	require.NoError(t, err)

	o.down(t)
	require.NoError(t, f.Settle(ctx, held, 60), "queued, not lost")
	assert.True(t, f.Degraded())
	local1, err := f.Acquire(ctx, req(100))
	require.NoError(t, err, "open mode admits locally")
	require.NoError(t, f.Settle(ctx, local1, 90))
	// Locally known: 180 from Redis (80 used + 100 reserved) + 90 local.
	_, err = f.Acquire(ctx, req(800))
	require.ErrorIs(t, err, ErrBudgetExceeded, "local counters start from the Redis totals")
	local2, err := f.Acquire(ctx, req(10)) // still in flight when Redis returns
	require.NoError(t, err)
	st := f.Stats()
	assert.Equal(t, uint64(3), st.LocalAcquires)
	assert.Positive(t, st.Pending)

	o.up(t)
	waitRestored(t, f)
	for _, key := range []string{"", "openai/0"} {
		used, reserved, err := f.Spent(ctx, subject, key)
		require.NoError(t, err)
		assert.Equal(t, [2]int64{80 + 60 + 90, 0}, [2]int64{used, reserved}, "budget %q", key)
	}
	require.NoError(t, f.Settle(ctx, local2, 5))
	require.Eventually(t, func() bool {
		used, _, err := f.redis.Spent(ctx, subject, "")
		return err == nil && used == 80+60+90+5
	}, 10*time.Second, 20*time.Millisecond, "a local lease settled after the switch back reaches Redis")
	assert.Zero(t, f.Stats().Pending)
	assert.Equal(t, 1, logs.count("redis unreachable"))
}

func TestFailoverPendingCap(t *testing.T) {
	t.Parallel()
	port, err := freePort()
	require.NoError(t, err)
	f, _ := newTestFailover(t, fmt.Sprintf("127.0.0.1:%d", port), FailOpen, WithMaxPending(2))
	ctx := context.Background()
	for i := range 3 {
		l := &Lease{owner: f.redis, subject: "s", id: fmt.Sprint(i), heapIdx: -1}
		require.NoError(t, f.Settle(ctx, l, 1))
	}
	st := f.Stats()
	assert.True(t, st.Degraded)
	assert.Equal(t, 2, st.Pending)
	assert.Equal(t, uint64(1), st.Dropped)
}

func TestParseFailMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     FailMode
		err      bool
	}{
		{"default", "", FailClosed, false},
		{"closed", "closed", FailClosed, false},
		{"open", "open", FailOpen, false},
		{"unknown", "ajar", FailClosed, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFailMode(tc.in)
			if tc.err {
				require.ErrorIs(t, err, ErrConfig)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.in == "open", got.String() == "open")
		})
	}
}

// TestFailoverSlowIsNotDown: calls that miss their own timeout on a healthy
// Redis (a saturated proxy) fail alone: the probes, with their own longer
// timeout, find Redis alive, so no outage is declared and no other request
// is refused for it.
func TestFailoverSlowIsNotDown(t *testing.T) {
	addr := needRedis(t)
	r, err := NewRedis(newTestClient(t, addr), RedisOptions{Timeout: time.Nanosecond, Prefix: "tkntest"})
	require.NoError(t, err)
	m, err := NewMemory(MemoryOptions{})
	require.NoError(t, err)
	f := NewFailover(r, m, FailClosed, nil, WithProbeInterval(20*time.Millisecond))
	t.Cleanup(func() { _ = f.Close() })
	subject := uniqueSubject(t)
	for range 10 {
		_, err := f.Acquire(context.Background(), &Request{Subject: subject, Budgets: []Budget{{"", 1000}}, Reserve: 10})
		require.ErrorIs(t, err, ErrUnavailable, "a call past its timeout still fails")
	}
	assert.False(t, f.Degraded(), "a healthy Redis was declared down")
	assert.Zero(t, f.Stats().Outages)
}
