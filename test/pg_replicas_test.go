package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// pgReplicas is two central replicas on one PostgreSQL and two proxies
// that list both (remote.url "A,B") and take pushes from whichever holds
// their lease. Proxies poll only every 300 s, so a change that reaches
// them within a second came by push.
type pgReplicas struct {
	env        []string
	dirs       []string
	ports      []int
	replicas   []*proc
	proxies    []*proc
	replicaURL []string
}

// postgresCentral rewrites a central config.yaml to keep its state in
// PostgreSQL (the DSN comes from the environment, as in production).
func postgresCentral(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "config.yaml")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	s := strings.Replace(string(b), "storage:\n  db_path: ./tokenomics.db\n",
		"storage:\n  db_path: ./tokenomics.db\n  backend: postgres\n  postgres:\n    dsn: ${TOKENOMICS_POSTGRES_DSN}\n", 1)
	require.NotEqual(t, string(b), s, "config.yaml has no storage block to extend")
	require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
}

func startPGReplicas(t *testing.T) *pgReplicas {
	t.Helper()
	return startPGReplicasWith(t, startFake(t, fakeupstream.Options{}), "")
}

// startPGReplicasWith is startPGReplicas with an upstream of the caller's
// and proxyExtra appended to each proxy's config.yaml.
func startPGReplicasWith(t *testing.T, fake *fakeupstream.Server, proxyExtra string) *pgReplicas {
	t.Helper()
	dsn := pgtest.FreshDSN(t)
	r := &pgReplicas{env: proxyEnv("TOKENOMICS_POSTGRES_DSN=" + dsn)}
	proxyPorts := []int{freePort(t), freePort(t)}
	var hooks []string
	for _, p := range proxyPorts {
		hooks = append(hooks, fmt.Sprintf("http://127.0.0.1:%d/v1/webhook", p))
	}
	for range 2 {
		port := freePort(t)
		dir := newCentralDir(t, centralSetup{fakeURL: fake.URL(), webhooks: hooks})
		postgresCentral(t, dir)
		r.dirs = append(r.dirs, dir)
		r.ports = append(r.ports, port)
		r.replicaURL = append(r.replicaURL, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	// Both replicas start at once: migrations and key checks must not race.
	var wg sync.WaitGroup
	r.replicas = make([]*proc, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.replicas[i] = startRemote(t, r.dirs[i], r.ports[i], r.env, "--allow-unsigned-plugins")
		}()
	}
	wg.Wait()
	for _, port := range proxyPorts {
		dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
			extra: syncedProxy(strings.Join(r.replicaURL, ","), 300, true) + proxyExtra})
		p := startServe(t, dir, port, proxyEnv())
		pxNoRace(t, p)
		r.proxies = append(r.proxies, p)
	}
	return r
}

func (r *pgReplicas) proxyURLs() []string {
	return []string{r.proxies[0].URL, r.proxies[1].URL}
}

// TestPGReplicasCreateDelete: a token created on replica A works on both
// proxies within 1 s, and deleted on replica B is refused within 1 s.
func TestPGReplicasCreateDelete(t *testing.T) {
	t.Parallel()
	r := startPGReplicas(t)
	var created, deleted []time.Duration
	for round := range 5 {
		tok, hash := apiCreate(t, r.replicaURL[0])
		d := waitAll(t, r.proxyURLs(), tok, "hello", 200, 10*time.Second)
		require.Less(t, d, time.Second, "round %d: created on A, working on both proxies after %s", round, d)
		created = append(created, d)
		apiDelete(t, r.replicaURL[1], hash)
		d = waitAll(t, r.proxyURLs(), tok, "hello", 401, 10*time.Second)
		require.Less(t, d, time.Second, "round %d: deleted on B, refused on both proxies after %s", round, d)
		deleted = append(deleted, d)
	}
	t.Logf("created on A → works on both proxies: p50 %s max %s; deleted on B → refused: p50 %s max %s",
		percentile(created, 50), percentile(created, 100), percentile(deleted, 50), percentile(deleted, 100))
}

// TestPGReplicaKilledDuringBurst: the replica serving a proxy's pushes
// (A) is killed -9 during a burst of creates spread over both replicas.
// Pushes resume from the other (B) within 5 s, and no acknowledged change
// is lost: both proxies end with every one of them, and a delete on B
// afterwards reaches both by push within a second.
func TestPGReplicaKilledDuringBurst(t *testing.T) {
	t.Parallel()
	r := startPGReplicas(t)
	warm, _ := apiCreate(t, r.replicaURL[0])
	waitAll(t, r.proxyURLs(), warm, "hello", 200, 10*time.Second)
	const served = "serving pushes to a webhook target: webhook=0"
	a := -1
	for i, p := range r.replicas {
		if strings.Contains(p.Logs(), served) {
			a = i
		}
	}
	require.NotEqual(t, -1, a, "no replica serves webhook 0")
	b := 1 - a
	require.NotContains(t, r.replicas[b].Logs(), served, "both replicas serve webhook 0 at once")

	var (
		mu    sync.Mutex
		acked []string // tokens whose create was acknowledged
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				tok, _, err := apiCreateErr(r.replicaURL[w%2])
				if err != nil {
					if w%2 == a {
						continue // replica A is gone; its writers keep failing
					}
					t.Errorf("create on B: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, tok)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	r.replicas[a].Kill()
	killed := time.Now()
	var takeover time.Duration
	for {
		if strings.Contains(r.replicas[b].Logs(), served) {
			takeover = time.Since(killed)
			break
		}
		require.Less(t, time.Since(killed), 10*time.Second, "B never took webhook 0 over:\n%s", r.replicas[b].Logs())
		time.Sleep(10 * time.Millisecond)
	}
	require.Less(t, takeover, 5*time.Second, "pushes resumed from B %s after A was killed", takeover)
	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	// B pushes now: a delete there reaches both proxies within a second.
	victim, vhash := apiCreate(t, r.replicaURL[b])
	waitAll(t, r.proxyURLs(), victim, "hello", 200, 10*time.Second)
	apiDelete(t, r.replicaURL[b], vhash)
	d := waitAll(t, r.proxyURLs(), victim, "hello", 401, 5*time.Second)
	require.Less(t, d, time.Second, "deleted on B after A died: refused after %s", d)

	// None of the acknowledged changes is lost: each works on both proxies.
	mu.Lock()
	defer mu.Unlock()
	for _, tok := range acked {
		waitAll(t, r.proxyURLs(), tok, "hello", 200, 10*time.Second)
	}
	t.Logf("%d creates acknowledged during the burst, all on both proxies; B took webhook 0 over %s after A was killed; a delete on B then was refused on both proxies in %s",
		len(acked), takeover.Round(time.Millisecond), d)
}
