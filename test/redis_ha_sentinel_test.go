package test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

const haMaster = "tkmaster"

// redisSentinelSetup is one primary, one replica and three sentinels.
type redisSentinelSetup struct {
	primary, replica *haNode
	sentinels        []*haNode
}

func (s *redisSentinelSetup) sentinelAddrs() []string {
	var out []string
	for _, n := range s.sentinels {
		out = append(out, n.addr())
	}
	return out
}

func startRedisSentinel(t *testing.T) *redisSentinelSetup {
	t.Helper()
	s := &redisSentinelSetup{primary: startHANode(t, false)}
	s.replica = startHANode(t, false, fmt.Sprintf("replicaof 127.0.0.1 %d", s.primary.port))
	pc := redis.NewClient(&redis.Options{Addr: s.primary.addr()})
	defer pc.Close()
	require.Eventually(t, func() bool {
		info, err := pc.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "connected_slaves:1") && strings.Contains(info, "state=online")
	}, 30*time.Second, 50*time.Millisecond, "the replica never synced")
	for range 3 {
		s.sentinels = append(s.sentinels, startHANode(t, true,
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", haMaster, s.primary.port),
			"sentinel down-after-milliseconds "+haMaster+" 1000",
			"sentinel failover-timeout "+haMaster+" 5000",
			"sentinel parallel-syncs "+haMaster+" 1"))
	}
	// Every sentinel knows the replica and the other sentinels.
	for _, n := range s.sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: n.addr()})
		require.Eventually(t, func() bool {
			m, err := sc.Master(context.Background(), haMaster).Result()
			return err == nil && m["num-other-sentinels"] == "2" && m["num-slaves"] == "1"
		}, 30*time.Second, 100*time.Millisecond, "sentinel %s never saw the whole setup", n.addr())
		_ = sc.Close()
	}
	return s
}

// primaryPort asks a sentinel which port the primary is on now.
func (s *redisSentinelSetup) primaryPort(t *testing.T) int {
	t.Helper()
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinels[0].addr()})
	defer sc.Close()
	addr, err := sc.GetMasterAddrByName(context.Background(), haMaster).Result()
	require.NoError(t, err)
	p, err := strconv.Atoi(addr[1])
	require.NoError(t, err)
	return p
}

func sentinelYAML(s *redisSentinelSetup) string {
	return haSessionYAML(fmt.Sprintf("    sentinel:\n      master_name: %s\n      addrs: %s\n", haMaster, yamlList(s.sentinelAddrs())))
}

// TestRedisHASentinelSharedBudget: three proxies on a Sentinel setup hold
// one token's budget exactly.
func TestRedisHASentinelSharedBudget(t *testing.T) {
	t.Parallel()
	s := startRedisSentinel(t)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	const limit = 3000
	fl := startFleet(t, 3, fake.URL(), sentinelYAML(s), fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d}`, limit))
	rc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: haMaster, SentinelAddrs: s.sentinelAddrs()})
	t.Cleanup(func() { _ = rc.Close() })
	sharedBudgetRun(t, fl, limit, rc, nil, true)
}

// TestRedisHASentinelFailover: the primary is killed -9 in the middle of
// the load. Sentinel promotes the replica; the proxies (fail_mode closed)
// refuse while no primary answers and then use the new one. Nothing is
// charged twice: the budget used never exceeds the limit nor the usage
// the clients were told (writes the old primary had not replicated may
// be lost, which undercharges).
func TestRedisHASentinelFailover(t *testing.T) {
	t.Parallel()
	s := startRedisSentinel(t)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	const limit = 8000
	fl := startFleet(t, 3, fake.URL(), sentinelYAML(s), fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d}`, limit))
	rc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: haMaster, SentinelAddrs: s.sentinelAddrs()})
	t.Cleanup(func() { _ = rc.Close() })
	require.Equal(t, s.primary.port, s.primaryPort(t))
	var failedOver time.Duration
	sharedBudgetRun(t, fl, limit, rc, func() {
		start := time.Now()
		s.primary.kill()
		for time.Since(start) < 30*time.Second {
			if s.primaryPort(t) == s.replica.port {
				failedOver = time.Since(start)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}, false)
	require.NotZero(t, failedOver, "sentinel never promoted the replica")
	t.Logf("sentinel promoted the replica %s after the primary was killed", failedOver.Round(time.Millisecond))

	// After the failover the fleet still holds the budget on the new
	// primary: spend it to the end, then nothing more is admitted.
	c := limClient(8)
	refused := false
	for i := 0; i < 400 && !refused; i++ {
		r := limChat(c, fl.procs[i%3].URL, fl.tok, "gpt-4o-mini", limWords(30, i), 20)
		require.NoError(t, r.Err)
		switch r.Status {
		case 200:
		case 503:
			time.Sleep(100 * time.Millisecond) // a client still finding the new primary
		case 429:
			refused = true
			require.Equal(t, "budget_exceeded", r.ErrorShape(t).Error.Code)
		default:
			t.Fatalf("after the failover: status %d: %s", r.Status, r.Body)
		}
	}
	require.True(t, refused, "the budget was never exhausted after the failover")
	row := limSettled(t, c, fl.procs[0].URL, fl.tok, "")
	require.LessOrEqual(t, row.Used, int64(limit), "overspent after the failover")
	t.Logf("after the failover the budget ran out at %d of %d", row.Used, limit)
}
