package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// batchRecorder forwards everything to a central replica and keeps a copy
// of each usage batch the proxy sent, so a test can send one again
// elsewhere, as a proxy retrying against another replica would.
type batchRecorder struct {
	rp      *httputil.ReverseProxy
	mu      sync.Mutex
	batches [][]byte
}

func startBatchRecorder(t *testing.T, centralURL string) (*batchRecorder, string) {
	t.Helper()
	u, err := url.Parse(centralURL)
	require.NoError(t, err)
	rec := &batchRecorder{rp: httputil.NewSingleHostReverseProxy(u)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return rec, "http://" + ln.Addr().String()
}

func (b *batchRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/v1/usage" && r.Method == http.MethodPost {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		b.batches = append(b.batches, body)
		b.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	b.rp.ServeHTTP(w, r)
}

// postBatch sends a usage batch as a proxy does and returns central's
// "stored" answer.
func postBatch(t *testing.T, centralURL string, body []byte) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, centralURL+"/api/v1/usage", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+centralKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := apiClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var ack struct {
		Stored bool `json:"stored"`
	}
	require.NoError(t, json.Unmarshal(raw, &ack), "%s", raw)
	return ack.Stored
}

// TestPGUsageAcrossReplicas: two central replicas on one PostgreSQL; a
// proxy ships its rollups to replica A, and replica B reports exactly
// what the fake upstream counted. A batch the proxy sent to A, sent again
// to B (same id), is acknowledged but not counted twice.
func TestPGUsageAcrossReplicas(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshDSN(t)
	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv("TOKENOMICS_POSTGRES_DSN=" + dsn)
	var urls []string
	for range 2 {
		port := freePort(t)
		dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
		postgresCentral(t, dir)
		startRemote(t, dir, port, env)
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	a, b := urls[0], urls[1]
	rec, recURL := startBatchRecorder(t, a)
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
		extra: syncedProxy(recURL, 1, false) + "usage:\n  interval: 1s\n"})
	px := startServe(t, dir, port, proxyEnv())
	pxNoRace(t, px)

	tok, _ := apiCreate(t, a)
	waitAll(t, []string{px.URL}, tok, "warm", 200, 60*time.Second)
	models := []string{"gpt-4o", "gpt-4o-mini"}
	for i := range 8 {
		text := fmt.Sprintf("pg usage %d [[fake:cached=%d]] [[fake:reasoning=%d]]", i, i%4, i%3)
		r := pxPost(t, px.URL+"/v1/chat/completions", tok, pxChat(models[i%2], text, i%3 == 0, ""))
		require.Equal(t, 200, r.status, "%s", r.body)
	}
	want := fakeTotalsByModel(t, fake)
	waitUsage(t, b, want)

	rec.mu.Lock()
	batches := append([][]byte(nil), rec.batches...)
	rec.mu.Unlock()
	require.NotEmpty(t, batches)
	for i, body := range batches {
		require.False(t, postBatch(t, b, body), "batch %d, already stored through A, stored again by B", i)
	}
	require.Equal(t, fmt.Sprint(want), fmt.Sprint(totalsOf(centralUsage(t, b, "model"))), "replica B")
	require.Equal(t, fmt.Sprint(want), fmt.Sprint(totalsOf(centralUsage(t, a, "model"))), "replica A")

	// A new batch id sent to B is counted, and A sees it at once.
	fresh := []byte(fmt.Sprintf(`{"id":"pg-usage-fresh","rows":[{"token_hash":"t","model":"extra-model","provider":"openai","minute":%d,"requests":2}]}`,
		time.Now().Unix()/60*60))
	require.True(t, postBatch(t, b, fresh))
	require.False(t, postBatch(t, a, fresh))
	got := totalsOf(centralUsage(t, a, "model"))
	require.EqualValues(t, 2, got["extra-model"].Requests)
}

// consoleSignin signs in to a replica's console as name and returns the
// client holding the session.
func consoleSignin(t *testing.T, base, name string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/ui/signin")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	m := regexp.MustCompile(`name="signin_token" value="([^"]+)"`).FindSubmatch(page)
	require.NotNil(t, m, "no sign-in token on %s", base)
	resp, err = c.PostForm(base+"/ui/signin", url.Values{"signin_token": {string(m[1])}, "key": {centralKey}, "name": {name}})
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return c
}

// TestPGEventsAndAuditAcrossReplicas: two central replicas on one
// PostgreSQL. An event delivered to replica A's /webhook inbox, and
// retried to B, is listed once by replica B's /api/v1/events, and a
// console sign-in on A is in B's audit log.
func TestPGEventsAndAuditAcrossReplicas(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshDSN(t)
	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv("TOKENOMICS_POSTGRES_DSN=" + dsn)
	var urls []string
	for range 2 {
		port := freePort(t)
		dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
		postgresCentral(t, dir)
		appendEventsReceiver(t, dir)
		startRemote(t, dir, port, env)
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	a, b := urls[0], urls[1]

	id := events.NewID()
	body := fmt.Appendf(nil, `{"id":%q,"type":"rule.violation","time":"2026-12-07T00:00:00Z","source":"proxy:pg-test"}`, id)
	// Delivered to A, then retried to B (whose replay cache never saw it):
	// both accept, the inbox holds it once.
	for _, base := range []string{a, b} {
		req, err := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(body))
		require.NoError(t, err)
		events.SignHeaders(req.Header.Set, events.Credentials{Secret: centralSecret, SigningKey: centralSigning, Direction: events.DirReport}, id, time.Now(), body)
		resp, err := centralClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode, base)
	}

	require.Equal(t, []string{id}, listedEventIDs(t, b, "type=rule.*"), "listed once by replica B")

	consoleSignin(t, a, "operator-on-a")
	cb := consoleSignin(t, b, "operator-on-b")
	resp, err := cb.Get(b + "/ui/audit")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(page), "operator-on-a", "replica B's audit log lacks the sign-in on A")
	require.Contains(t, string(page), "operator-on-b")
}
