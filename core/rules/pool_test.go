package rules

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
)

// TestPoolTrim: an idle pool keeps one warm instance; a get that finds
// none idle makes the refiller build one more (the get itself never
// instantiates), and trimming keeps what was in use at once.
func TestPoolTrim(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, Config{PoolSize: 3, IdleTrim: -1, PoolWait: time.Minute})
	rs, err := h.Compile([]policy.Rule{{Name: "k", Type: TypeKeyword, Keywords: []string{"zzz"}}}, nil)
	require.NoError(t, err)
	waitWarm(t, h)
	p := rs.rules[0].mod.pool
	require.Equal(t, 3, p.live())

	check := func() {
		t.Helper()
		var v Verdict
		require.NoError(t, rs.Check(context.Background(), Input, []Text{{Data: []byte("hello")}}, &v))
		require.Equal(t, Allow, v.Action)
	}
	check() // one at a time: the most in use at once is 1
	assert.Equal(t, 2, p.trim())
	assert.Equal(t, 1, p.live())
	assert.Len(t, p.ch, 1)
	assert.Equal(t, 0, p.trim(), "idle: the last instance stays")
	assert.Equal(t, 1, p.live())

	// Two at once: the second get finds none idle and the refiller grows
	// the pool for it.
	ctx := context.Background()
	first, err := p.get(ctx, nopObserver{})
	require.NoError(t, err)
	second, err := p.get(ctx, nopObserver{})
	require.NoError(t, err)
	assert.NotSame(t, first, second)
	assert.Equal(t, 2, p.live())
	p.put(first)
	p.put(second)

	assert.Equal(t, 0, p.trim(), "two were in use at once since the last trim")
	assert.Equal(t, 2, p.live())
	assert.Equal(t, 1, p.trim(), "none in use since")
	assert.Equal(t, 1, p.live())
	check()
}

// TestPoolTrimTicks: the trimmer runs on its own every IdleTrim.
func TestPoolTrimTicks(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, Config{PoolSize: 2, IdleTrim: 10 * time.Millisecond})
	rs, err := h.Compile([]policy.Rule{{Name: "k", Type: TypeKeyword, Keywords: []string{"zzz"}}}, nil)
	require.NoError(t, err)
	p := rs.rules[0].mod.pool
	require.Eventually(t, func() bool { return p.live() == 1 && len(p.ch) == 1 }, time.Minute, 5*time.Millisecond)
	var v Verdict
	require.NoError(t, rs.Check(context.Background(), Input, []Text{{Data: []byte("zzz")}}, &v))
	assert.Equal(t, Block, v.Action)
}

// TestCloseDuringChecks: closing the host while checks run waits for the
// instances in use before their memories are freed (they live outside the
// Go heap: a freed one under a running check would crash the process).
func TestCloseDuringChecks(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, Config{PoolSize: 2})
	rs, err := h.Compile(contractorRules(t), nil)
	require.NoError(t, err)
	texts := contractorChat(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var v Verdict
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = rs.Check(context.Background(), Input, texts, &v)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, h.Close(context.Background()))
	assert.False(t, h.mem.leak.Load(), "Close waited for the checks")
	var v Verdict
	require.NoError(t, rs.Check(context.Background(), Input, texts, &v))
	assert.Equal(t, Block, v.Action, "a closed host fails closed")
	close(stop)
	wg.Wait()
}
