package limits

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startCluster starts a three-master Redis Cluster of real redis-server
// processes (no replicas) and returns their addresses; it skips without
// redis-server.
func startCluster(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server on PATH for a Redis Cluster")
	}
	const nodes = 3
	var addrs []string
	var clients []*redis.Client
	for i := range nodes {
		port, err := freePort()
		require.NoError(t, err)
		dir := t.TempDir()
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", dir, "--daemonize", "no", "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addr := "127.0.0.1:" + strconv.Itoa(port)
		addrs = append(addrs, addr)
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { _ = c.Close() })
		clients = append(clients, c)
		require.Eventually(t, func() bool { return c.Ping(context.Background()).Err() == nil }, 10*time.Second, 20*time.Millisecond)
		lo, hi := i*16384/nodes, (i+1)*16384/nodes-1
		require.NoError(t, c.Do(context.Background(), "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err())
	}
	for i, c := range clients[1:] {
		host, port, _ := strings.Cut(addrs[0], ":")
		require.NoError(t, c.ClusterMeet(context.Background(), host, port).Err(), "node %d", i+1)
	}
	require.Eventually(t, func() bool {
		for _, c := range clients {
			info, err := c.ClusterInfo(context.Background()).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", nodes)) {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "cluster never became ok")
	return addrs
}

// TestReleaseOrphansCluster: on a real three-node Redis Cluster every
// check runs in one slot (no CROSSSLOT), and a restarted proxy instance
// frees the leases its previous run left on every node, as on one server.
func TestReleaseOrphansCluster(t *testing.T) {
	t.Parallel()
	addrs := startCluster(t)
	ctx := context.Background()
	newRun := func(instance string) *Redis {
		opts := RedisClientOptions(addrs, "", 0, 5*time.Second)
		c := redis.NewUniversalClient(opts)
		t.Cleanup(func() { _ = c.Close() })
		_, isCluster := c.(*redis.ClusterClient)
		require.True(t, isCluster, "several addresses make a cluster client")
		r, err := NewRedis(c, RedisOptions{Timeout: 5 * time.Second, Prefix: "tkntest", Instance: instance})
		require.NoError(t, err)
		return r
	}
	// Enough subjects to land on every node.
	subjects := make([]string, 12)
	for i := range subjects {
		subjects[i] = uniqueSubject(t)
	}
	req := func(s string) *Request {
		return &Request{Subject: s, Budgets: []Budget{{"", 10000}, {"openai/0", 5000}},
			Windows:     []Window{{Requests: true, Limit: 100, Window: time.Minute}, {Limit: 100000, Window: time.Minute}},
			MaxParallel: 1, Reserve: 500, Report: 20, LeaseTTL: time.Hour}
	}
	first := newRun("proxy-a")
	for _, s := range subjects {
		l, err := first.Acquire(ctx, req(s))
		require.NoError(t, err, "subject %s", s)
		l.Report(70)
		require.NoError(t, l.KeepAlive(ctx, time.Hour))
		_, err = first.Acquire(ctx, req(s))
		require.ErrorIs(t, err, ErrTooManyParallel)
	}

	second := newRun("proxy-a") // the same instance, restarted
	n, err := second.ReleaseOrphans(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(subjects), n, "every node's orphans freed")
	for _, s := range subjects {
		used, reserved, err := second.Spent(ctx, s, "")
		require.NoError(t, err)
		assert.Equal(t, [2]int64{70, 0}, [2]int64{used, reserved}, "subject %s bills its last report", s)
		l, err := second.Acquire(ctx, req(s))
		require.NoError(t, err, "the freed slot is usable at once")
		require.NoError(t, second.Settle(ctx, l, 10))
	}
}
