package test

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// fanoutReceivers are lightweight push receivers standing in for proxies:
// each verifies the signed push as a proxy does (its own verifier, so
// replay checks are per receiver) and records when the revocation's
// revision reached it.
type fanoutReceivers struct {
	urls []string
	mu   sync.Mutex
	got  map[int]time.Time // receiver → first push at or past want
	want uint64
}

func startFanoutReceivers(t *testing.T, n int) *fanoutReceivers {
	t.Helper()
	f := &fanoutReceivers{got: map[int]time.Time{}, want: ^uint64(0)}
	for i := range n {
		v, err := events.NewVerifier(events.VerifierConfig{Secret: centralSecret, SigningKey: centralSigning})
		require.NoError(t, err)
		h := events.NewReceiverHandler(v, func(ev events.Event) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if ev.Revision >= f.want {
				if _, ok := f.got[i]; !ok {
					f.got[i] = time.Now()
				}
			}
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		f.urls = append(f.urls, "http://"+ln.Addr().String()+"/v1/webhook")
	}
	return f
}

func (f *fanoutReceivers) expect(rev uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.want, f.got = rev, map[int]time.Time{}
}

func (f *fanoutReceivers) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// TestPGFanout200: one revocation pushed to 200 receivers, from one bbolt
// central and from two PostgreSQL replicas sharing the targets' leases.
// It checks that every receiver hears of it, and logs the fan-out time
// (delete acknowledged → last receiver) recorded in docs/SCALING.md.
func TestPGFanout200(t *testing.T) {
	if testing.Short() {
		t.Skip("200 receivers")
	}
	const n = 200
	for _, backend := range []string{"bolt", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			recv := startFanoutReceivers(t, n)
			fake := startFake(t, fakeupstream.Options{})
			env := proxyEnv()
			replicas := 1
			if backend == "postgres" {
				env = proxyEnv("TOKENOMICS_POSTGRES_DSN=" + pgtest.FreshDSN(t))
				replicas = 2
			}
			var urls []string
			for range replicas {
				dir := newCentralDir(t, centralSetup{fakeURL: fake.URL(), webhooks: recv.urls, events: `["token.*"]`})
				if backend == "postgres" {
					postgresCentral(t, dir)
				}
				port := freePort(t)
				startRemote(t, dir, port, env)
				urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", port))
			}
			var took []time.Duration
			for round := range 5 {
				_, hash := apiCreate(t, urls[0])
				// The create's own pushes go out first; wait for them to
				// settle so the round measures the revocation alone.
				time.Sleep(500 * time.Millisecond)
				rev := currentRevision(t, urls[len(urls)-1])
				recv.expect(rev + 1)
				start := time.Now()
				apiDelete(t, urls[len(urls)-1], hash)
				deadline := time.Now().Add(60 * time.Second)
				for recv.count() < n {
					require.True(t, time.Now().Before(deadline), "round %d: %d of %d receivers heard of the revocation", round, recv.count(), n)
					time.Sleep(2 * time.Millisecond)
				}
				recv.mu.Lock()
				var last time.Time
				for _, at := range recv.got {
					if at.After(last) {
						last = at
					}
				}
				recv.mu.Unlock()
				took = append(took, last.Sub(start))
			}
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			t.Logf("%s, %d central process(es): one revocation reached all %d receivers in p50 %s, max %s over %d rounds",
				backend, replicas, n, took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), len(took))
		})
	}
}

// currentRevision reads a central server's revision from /ready.
func currentRevision(t *testing.T, url string) uint64 {
	t.Helper()
	_, body := readyStatus(t, url)
	var rev uint64
	i := strings.Index(body, `"revision":`)
	require.GreaterOrEqual(t, i, 0, body)
	_, err := fmt.Sscan(body[i+len(`"revision":`):], &rev)
	require.NoError(t, err, body)
	return rev
}
