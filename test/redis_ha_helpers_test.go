package test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// haNode is one redis-server (data node or sentinel) of an HA setup.
type haNode struct {
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func (n *haNode) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// kill ends the node at once, as a crash would.
func (n *haNode) kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.done
	n.cmd = nil
}

// startHANode runs redis-server with args (config lines for a config
// file, "port" given here) on a port it proves it owns: the process
// answering INFO there must be the one it started.
func startHANode(t *testing.T, sentinel bool, conf ...string) *haNode {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server on PATH: apt-get install -y redis-server")
	}
	for range 5 {
		n := &haNode{port: unusedPort(t)}
		dir := t.TempDir()
		lines := append([]string{"port " + strconv.Itoa(n.port), "bind 127.0.0.1", "protected-mode no", "daemonize no",
			"save \"\"", "appendonly no", "dir " + dir}, conf...)
		file := filepath.Join(dir, "redis.conf")
		require.NoError(t, os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
		args := []string{file}
		if sentinel {
			args = append(args, "--sentinel")
		}
		cmd := exec.Command("redis-server", args...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &limitedWriter{w: &out, n: 8 << 10}, io.Discard
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		require.NoError(t, cmd.Start())
		n.cmd, n.done = cmd, make(chan struct{})
		go func() { _ = cmd.Wait(); close(n.done) }()
		t.Cleanup(n.kill)
		c := redis.NewClient(&redis.Options{Addr: n.addr(), MaxRetries: -1})
		ok, taken := false, false
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			select {
			case <-n.done:
				n.cmd = nil
				taken = strings.Contains(out.String(), "in use")
				require.True(t, taken, "redis-server exited at start: %s", out.String())
			default:
			}
			if taken {
				break
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			info, err := c.Info(ctx, "server").Result()
			cancel()
			if err == nil {
				if infoField(info, "process_id") == strconv.Itoa(cmd.Process.Pid) {
					ok = true
				} else {
					n.kill()
					taken = true
				}
				break
			}
		}
		_ = c.Close()
		if ok {
			return n
		}
		require.True(t, taken, "redis-server on %d never answered", n.port)
	}
	t.Fatal("no free port for redis-server after 5 tries")
	return nil
}

// sharedBudgetRun sends 240 requests spread over the fleet's three
// proxies against one token's budget and checks the fleet holds it
// exactly: never more used than the limit, every proxy agreeing, usage
// charged equal to usage reported (or, with lost writes, not more).
// during runs in the middle of the load (a failover).
func sharedBudgetRun(t *testing.T, fl *proxyFleet, limit int64, rc redis.UniversalClient, during func(), exactCharge bool) {
	t.Helper()
	const n = 240
	c := limClient(n)
	replies := make([]limReply, n)
	if during != nil {
		go func() { time.Sleep(300 * time.Millisecond); during() }()
	}
	limFanOut(n, func(i int) {
		if during != nil {
			// Spread the load over a few seconds so the failover lands in it.
			time.Sleep(time.Duration(i) * 25 * time.Millisecond)
		}
		replies[i] = limChat(c, fl.procs[i%3].URL, fl.tok, "gpt-4o-mini", limWords(30, i), 20)
	})
	var reported int64
	okBy := [3]int{}
	refused, unavailable := 0, 0
	for i, r := range replies {
		require.NoError(t, r.Err, "request %d", i)
		switch {
		case r.Status == 200:
			okBy[i%3]++
			reported += r.Usage(t).TotalTokens
		case r.Status == 429:
			refused++
			assert.Equal(t, "budget_exceeded", r.ErrorShape(t).Error.Code, "request %d", i)
		case r.Status == 503 && during != nil:
			unavailable++ // fail_mode closed while the primary moves
		default:
			t.Errorf("request %d: status %d: %s", i, r.Status, r.Body)
		}
	}
	var rows []limBudgetRow
	require.Eventually(t, func() bool {
		rows = rows[:0]
		for _, p := range fl.procs {
			rows = append(rows, limSettled(t, c, p.URL, fl.tok, ""))
		}
		for i := range rows {
			if rows[i] != rows[0] || rows[i].Reserved != 0 {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "proxies never agreed on a settled budget: %v", rows)
	t.Logf("admitted per proxy %v, %d refused for budget, %d unavailable; used %d of %d, reported to clients %d",
		okBy, refused, unavailable, rows[0].Used, limit, reported)
	assert.LessOrEqual(t, rows[0].Used, limit, "the fleet overspent the shared budget")
	if exactCharge {
		assert.Equal(t, reported, rows[0].Used, "usage charged differs from usage reported to clients")
	} else {
		assert.LessOrEqual(t, rows[0].Used, reported, "charged more than the clients were told they used: double charge")
	}
	if during == nil {
		assert.Positive(t, refused, "no refusal: the test proves nothing")
	}
	total := okBy[0] + okBy[1] + okBy[2]
	assert.Less(t, int64(total*50), 2*limit, "the fleet admitted %d requests: budgets are not shared", total)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	used, err := rc.HGet(ctx, "tkn:{"+fl.hash+"}:b", "u:").Int64()
	require.NoError(t, err, "no budget for the token in Redis")
	assert.Equal(t, rows[0].Used, used)
}

// haSessionYAML is a session block on a Redis HA setup; ha is the YAML
// under session.redis (sentinel: or cluster:).
func haSessionYAML(ha string) string {
	return fmt.Sprintf("session:\n  backend: redis\n  fail_mode: closed\n  redis:\n    timeout: 2s\n%s", ha)
}

func yamlList(addrs []string) string { return "[\"" + strings.Join(addrs, "\", \"") + "\"]" }
