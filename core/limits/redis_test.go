package limits

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedisFleet runs three limiters with separate clients — three proxies —
// against one budget, one request rule and one max_parallel.
func TestRedisFleet(t *testing.T) {
	t.Parallel()
	addr := needRedis(t)
	proxies := []Limiter{
		newTestRedis(t, addr, 5*time.Second),
		newTestRedis(t, addr, 5*time.Second),
		newTestRedis(t, addr, 5*time.Second),
	}
	subject := uniqueSubject(t)
	const (
		limit       = 10_000
		maxRequests = 140
		maxParallel = 5
	)
	// A fixed hour window: admissions within one bucket are bounded exactly.
	window := Window{Requests: true, Limit: maxRequests, Window: time.Hour, Fixed: true}
	bucket := func() int64 { return time.Now().UnixMilli() / time.Hour.Milliseconds() }
	startBucket := bucket()

	var inFlight, peak, admitted, parallelRefusals atomic.Int64
	var rateRefused atomic.Bool
	total := budgetRace(t, proxies, subject, 60, limit, func(r *Request) { r.MaxParallel = maxParallel })
	// budgetRace settles at once; a second pass holds its leases a while to
	// exercise max_parallel and the request rule together.
	ctx := context.Background()
	subject2 := uniqueSubject(t)
	var wg sync.WaitGroup
	for g := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lim := proxies[g%3]
			for !rateRefused.Load() {
				l, err := lim.Acquire(ctx, &Request{Subject: subject2, Windows: []Window{window}, MaxParallel: maxParallel, Reserve: 1})
				switch {
				case errors.Is(err, ErrTooManyParallel):
					parallelRefusals.Add(1)
					time.Sleep(time.Millisecond)
					continue
				case errors.Is(err, ErrRateLimited):
					rateRefused.Store(true)
					return
				case err != nil:
					t.Errorf("acquiring: %v", err)
					return
				}
				admitted.Add(1)
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(2 * time.Millisecond)
				inFlight.Add(-1)
				if err := lim.Settle(ctx, l, 1); err != nil {
					t.Errorf("settling: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()

	used, reserved, err := proxies[0].Spent(ctx, subject, "")
	require.NoError(t, err)
	assert.Equal(t, total, used, "every admitted request's usage is recorded")
	assert.LessOrEqual(t, used, int64(limit))
	assert.Zero(t, reserved)

	assert.LessOrEqual(t, peak.Load(), int64(maxParallel), "max_parallel holds across proxies")
	assert.Positive(t, parallelRefusals.Load(), "max_parallel was contended")
	assert.True(t, rateRefused.Load())
	if bucket() == startBucket {
		assert.Equal(t, int64(maxRequests), admitted.Load(), "the request rule admits exactly its limit")
	} else {
		t.Log("crossed an hour boundary: the exact request count is not checked")
	}
}

func TestRedisConcurrentBudget(t *testing.T) {
	t.Parallel()
	addr := needRedis(t)
	r := newTestRedis(t, addr, 5*time.Second)
	subject := uniqueSubject(t)
	const limit = 10_000
	total := budgetRace(t, []Limiter{r}, subject, 200, limit, nil)
	used, reserved, err := r.Spent(context.Background(), subject, "")
	require.NoError(t, err)
	assert.Equal(t, total, used)
	assert.LessOrEqual(t, used, int64(limit))
	assert.Greater(t, used, int64(limit-100))
	assert.Zero(t, reserved)
}

// TestRedisLeaseExpiry: a proxy that never settles loses its slot after the
// lease TTL, on the real server clock, and its reservation is charged.
func TestRedisLeaseExpiry(t *testing.T) {
	t.Parallel()
	addr := needRedis(t)
	dead, alive := newTestRedis(t, addr, 5*time.Second), newTestRedis(t, addr, 5*time.Second)
	subject := uniqueSubject(t)
	ctx := context.Background()
	req := func() *Request {
		return &Request{Subject: subject, Budgets: []Budget{{"", 1000}}, MaxParallel: 1, Reserve: 300, LeaseTTL: 2 * time.Second}
	}
	orphan, err := dead.Acquire(ctx, req())
	require.NoError(t, err)
	_, err = alive.Acquire(ctx, req())
	require.ErrorIs(t, err, ErrTooManyParallel)

	var l *Lease
	require.Eventually(t, func() bool {
		l, err = alive.Acquire(ctx, req())
		return err == nil
	}, 15*time.Second, 50*time.Millisecond)
	used, reserved, err := alive.Spent(ctx, subject, "")
	require.NoError(t, err)
	assert.Equal(t, [2]int64{300, 300}, [2]int64{used, reserved}, "the orphan's reservation is charged")

	require.NoError(t, dead.Settle(ctx, orphan, 20), "a late settle corrects the charge")
	require.NoError(t, alive.Settle(ctx, l, 30))
	used, reserved, err = alive.Spent(ctx, subject, "")
	require.NoError(t, err)
	assert.Equal(t, [2]int64{50, 0}, [2]int64{used, reserved})
}

func TestRedisKeepAlive(t *testing.T) {
	t.Parallel()
	addr := needRedis(t)
	r := newTestRedis(t, addr, 5*time.Second)
	subject := uniqueSubject(t)
	ctx := context.Background()
	req := &Request{Subject: subject, MaxParallel: 1, LeaseTTL: 300 * time.Millisecond}
	l, err := r.Acquire(ctx, req)
	require.NoError(t, err)
	for range 6 {
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, l.KeepAlive(ctx, 300*time.Millisecond))
	}
	_, err = r.Acquire(ctx, req)
	require.ErrorIs(t, err, ErrTooManyParallel, "600ms later the kept-alive lease still holds the slot")
	require.NoError(t, r.Settle(ctx, l, 0))
	require.ErrorIs(t, l.KeepAlive(ctx, time.Second), ErrLeaseExpired)
	_, err = r.Acquire(ctx, req)
	require.NoError(t, err)
}

// TestRedisScriptCacheFlushed: after SCRIPT FLUSH (or a restarted server)
// EVALSHA fails with NOSCRIPT and the call falls back to EVAL.
func TestRedisScriptCacheFlushed(t *testing.T) {
	addr := needRedis(t)
	r := newTestRedis(t, addr, 5*time.Second)
	ctx := context.Background()
	require.NoError(t, newTestClient(t, addr).ScriptFlush(ctx).Err())
	l, err := r.Acquire(ctx, &Request{Subject: uniqueSubject(t), Reserve: 1})
	require.NoError(t, err)
	require.NoError(t, newTestClient(t, addr).ScriptFlush(ctx).Err())
	require.NoError(t, r.Settle(ctx, l, 1))
}

func TestRedisKeysShareOneSlot(t *testing.T) {
	t.Parallel()
	r := &Redis{prefix: "tkn"}
	for _, k := range r.keys("ab12") {
		open := strings.IndexByte(k, '{')
		end := strings.IndexByte(k[open+1:], '}')
		require.GreaterOrEqual(t, open, 0)
		assert.Equal(t, "ab12", k[open+1:open+1+end], "hash tag of %q", k)
	}
}

func TestRedisReset(t *testing.T) {
	t.Parallel()
	addr := needRedis(t)
	r := newTestRedis(t, addr, 5*time.Second)
	subject := uniqueSubject(t)
	ctx := context.Background()
	req := &Request{Subject: subject, Budgets: []Budget{{"", 10}}, Windows: []Window{{Requests: true, Limit: 1, Window: time.Hour}}, Reserve: 10}
	_, err := r.Acquire(ctx, req)
	require.NoError(t, err)
	_, err = r.Acquire(ctx, req)
	require.Error(t, err)
	require.NoError(t, r.Reset(ctx, subject))
	_, err = r.Acquire(ctx, req)
	require.NoError(t, err)
}

func TestNewRedisNeedsContextTimeouts(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	_, err := NewRedis(c, RedisOptions{})
	require.ErrorIs(t, err, ErrConfig)
	uc := redis.NewUniversalClient(RedisClientOptions([]string{"127.0.0.1:1"}, "", 0, 0))
	defer uc.Close()
	_, err = NewRedis(uc, RedisOptions{})
	require.NoError(t, err)
}

// TestRedisUnreachableIsQuick: nothing listening means a KindUnavailable
// refusal within the timeout, not a hang.
func TestRedisUnreachableIsQuick(t *testing.T) {
	t.Parallel()
	port, err := freePort()
	require.NoError(t, err)
	r := newTestRedis(t, fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	start := time.Now()
	_, err = r.Acquire(context.Background(), &Request{Subject: "s"})
	require.ErrorIs(t, err, ErrUnavailable)
	require.Less(t, time.Since(start), 400*time.Millisecond)
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"timeout", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"eof", io.EOF, true},
		{"closed client", redis.ErrClosed, true},
		{"pool timeout", redis.ErrPoolTimeout, true},
		{"loading", redisError("LOADING Redis is loading the dataset in memory"), true},
		{"readonly replica", redisError("READONLY You can't write against a read only replica."), true},
		{"script error", redisError("ERR user_script:1: Script attempted to access nonexistent global variable"), false},
		{"wrong type", redisError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{"canceled", context.Canceled, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, unreachable(tc.err))
		})
	}
}

type redisError string

func (e redisError) Error() string { return string(e) }
func (e redisError) RedisError()   {}
