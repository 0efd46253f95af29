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

// startRedisCluster starts three redis-server masters, gives each a third
// of the slots and joins them.
func startRedisCluster(t *testing.T) []string {
	t.Helper()
	const nodes = 3
	var addrs []string
	var clients []*redis.Client
	for i := range nodes {
		n := startHANode(t, false, "cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 5000")
		addrs = append(addrs, n.addr())
		c := redis.NewClient(&redis.Options{Addr: n.addr()})
		t.Cleanup(func() { _ = c.Close() })
		clients = append(clients, c)
		lo, hi := i*16384/nodes, (i+1)*16384/nodes-1
		require.NoError(t, c.Do(context.Background(), "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err())
	}
	host, port, _ := strings.Cut(addrs[0], ":")
	p, _ := strconv.Atoi(port)
	for _, c := range clients[1:] {
		require.NoError(t, c.ClusterMeet(context.Background(), host, strconv.Itoa(p)).Err())
	}
	require.Eventually(t, func() bool {
		for _, c := range clients {
			info, err := c.ClusterInfo(context.Background()).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", nodes)) {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "the cluster never became ok")
	return addrs
}

// TestRedisHAClusterSharedBudget: three proxies on a three-node Redis
// Cluster hold one token's budget exactly; the token's keys share one
// slot ({hash} tags), so each check stays one Lua call on one node.
func TestRedisHAClusterSharedBudget(t *testing.T) {
	t.Parallel()
	addrs := startRedisCluster(t)
	fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
	const limit = 3000
	fl := startFleet(t, 3, fake.URL(), haSessionYAML("    cluster:\n      addrs: "+yamlList(addrs)+"\n"),
		fmt.Sprintf(`{"model_regex":"^gpt-4o","max_tokens":%d}`, limit))
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = rc.Close() })
	sharedBudgetRun(t, fl, limit, rc, nil, true)
	// Every key of the token lives on one node: the one owning its slot.
	ctx := context.Background()
	slot := -1
	require.NoError(t, rc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, "tkn:{"+fl.hash+"}:*").Result()
		if err != nil || len(keys) == 0 {
			return err
		}
		for _, k := range keys {
			s, err := c.ClusterKeySlot(ctx, k).Result()
			if err != nil {
				return err
			}
			if slot == -1 {
				slot = int(s)
			}
			require.Equal(t, slot, int(s), "key %s in another slot", k)
		}
		return nil
	}))
	require.NotEqual(t, -1, slot, "no key of the token on any node")
}
