package limits

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReleaseOrphans: a proxy killed with requests in flight restarts under
// the same instance id and frees its predecessor's leases at once: the
// max_parallel slots come back and each lease bills what it last reported,
// not its reservation. Another instance's leases are left alone.
func TestReleaseOrphans(t *testing.T) {
	t.Parallel()
	addr := needRedis(t)
	ctx := context.Background()
	subject := uniqueSubject(t)
	newRun := func(instance string) *Redis {
		r, err := NewRedis(newTestClient(t, addr), RedisOptions{Timeout: 5 * time.Second, Prefix: "tkntest", Instance: instance})
		require.NoError(t, err)
		return r
	}
	req := func() *Request {
		return &Request{Subject: subject, Budgets: []Budget{{"", 10000}}, MaxParallel: 3, Reserve: 500, Report: 20, LeaseTTL: time.Hour}
	}
	first := newRun("proxy-a")
	other := newRun("proxy-b")
	l1, err := first.Acquire(ctx, req())
	require.NoError(t, err)
	l2, err := first.Acquire(ctx, req())
	require.NoError(t, err)
	_, err = other.Acquire(ctx, req())
	require.NoError(t, err)
	// l1 renewed with 130 tokens produced so far; l2 never renewed.
	l1.Report(130)
	require.NoError(t, l1.KeepAlive(ctx, time.Hour))
	_, err = first.Acquire(ctx, req())
	require.ErrorIs(t, err, ErrTooManyParallel)
	_ = l2

	// "kill -9": the first run is gone; the next run has the same instance id.
	second := newRun("proxy-a")
	n, err := second.ReleaseOrphans(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	used, reserved, err := second.Spent(ctx, subject, "")
	require.NoError(t, err)
	assert.Equal(t, int64(130+20), used, "orphans bill their last report")
	assert.Equal(t, int64(500), reserved, "proxy-b's lease is not touched")
	l3, err := second.Acquire(ctx, req())
	require.NoError(t, err, "the freed slots are usable at once")
	require.NoError(t, second.Settle(ctx, l3, 10))
	n, err = second.ReleaseOrphans(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a run never frees its own leases")
}
