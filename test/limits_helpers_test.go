package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// Helpers for the end-to-end limit tests (limits_*_test.go): Redis for the
// shared backend, a fake upstream that counts requests in flight, and an
// HTTP client that speaks to the proxy as an OpenAI SDK would.

// redisProc is a redis-server subprocess owned by one test: it can be
// killed and restarted on the same port.
type redisProc struct {
	dir     string
	port    int
	durable bool
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
}

// limStartRedis starts redis-server on a free loopback port. A durable server
// writes an fsync-always append-only file, so its data survives a kill.
func limStartRedis(t *testing.T, durable bool) *redisProc {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server on PATH: install it to run the Redis limit tests")
	}
	r := &redisProc{dir: t.TempDir(), durable: durable}
	t.Cleanup(r.kill)
	r.startFresh(t)
	return r
}

func (r *redisProc) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server on r.port again (after a kill) and fails the
// test if it cannot have the port back.
func (r *redisProc) start(t *testing.T) {
	t.Helper()
	if err := r.launch(); err != nil {
		t.Fatalf("redis-server on port %d: %v", r.port, err)
	}
}

// kill ends the server at once, as a crash would.
func (r *redisProc) kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// freeze stops the server without closing its socket: connections are
// accepted by the kernel and nothing answers.
func (r *redisProc) freeze(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGSTOP))
	t.Cleanup(func() {
		if r.cmd != nil {
			_ = r.cmd.Process.Signal(syscall.SIGCONT)
		}
	})
}

func (r *redisProc) thaw(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGCONT))
}

// sharedRedisAddr is the Redis a test may share with others:
// TOKENOMICS_TEST_REDIS_ADDR (CI) or a redis-server of its own. Tests keep
// apart because every counter is keyed by a fresh token's hash.
func sharedRedisAddr(t *testing.T) string {
	t.Helper()
	if addr := os.Getenv("TOKENOMICS_TEST_REDIS_ADDR"); addr != "" {
		return addr
	}
	return limStartRedis(t, false).addr()
}

// limRedisClient talks to Redis directly, to look at the counters the proxies
// keep there.
func limRedisClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// redisBudgetUsed reads a token's settled usage of its own budget straight
// from Redis (key layout: core/limits/lua.go). ok is false when the key or
// field does not exist or Redis does not answer; it never fails the test, so
// condition functions may call it.
func redisBudgetUsed(t *testing.T, c *redis.Client, hash string) (used int64, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := c.HGet(ctx, "tkn:{"+hash+"}:b", "u:").Int64()
	if err != nil {
		if err != redis.Nil {
			t.Logf("reading usage from Redis: %v", err)
		}
		return 0, false
	}
	return v, true
}

// limSessionYAML is the session block of config.yaml for a Redis backend.
// The Redis timeout is 2s unless given: 240 requests from three proxies on
// a machine running another copy of the suite take longer than the 200ms
// default to reach a shared Redis, and a test of admission must not turn
// that into "Redis unreachable". Outage tests pass the short default,
// since they measure how fast an outage is noticed.
func limSessionYAML(addr, failMode string, timeout ...string) string {
	to := "2s"
	if len(timeout) > 0 {
		to = timeout[0]
	}
	return fmt.Sprintf("session:\n  backend: redis\n  fail_mode: %s\n  redis:\n    addr: %q\n    timeout: %s\n", failMode, addr, to)
}

// countingFake is a fake upstream behind a handler that counts the requests
// it is answering at once, and the most it ever answered at once.
type countingFake struct {
	*fakeupstream.Server
	url      string
	inflight atomic.Int64
	peak     atomic.Int64
	total    atomic.Int64
}

func startCountingFake(t *testing.T, opts fakeupstream.Options) *countingFake {
	t.Helper()
	if opts.OpenAIKey == "" {
		opts.OpenAIKey = fakeOpenAIKey
	}
	if opts.AnthropicKey == "" {
		opts.AnthropicKey = fakeAnthropicKey
	}
	cf := &countingFake{Server: fakeupstream.New(opts)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(cf.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	cf.url = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		_ = cf.Server.Close() // releases handlers still waiting
		_ = srv.Close()
	})
	return cf
}

func (cf *countingFake) URL() string { return cf.url }

func (cf *countingFake) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		cf.Server.ServeHTTP(w, r)
		return
	}
	n := cf.inflight.Add(1)
	cf.total.Add(1)
	for {
		p := cf.peak.Load()
		if n <= p || cf.peak.CompareAndSwap(p, n) {
			break
		}
	}
	defer cf.inflight.Add(-1)
	cf.Server.ServeHTTP(w, r)
}

// limClient is a keep-alive client with room for conns connections per host.
func limClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns * 4,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}

// limAPIError is the OpenAI error shape.
type limAPIError struct {
	Error *struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

// limUsage is the usage object of a chat completion.
type limUsage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// limReply is one answer from the proxy.
type limReply struct {
	Status  int
	Header  http.Header
	Body    []byte
	Elapsed time.Duration
	Err     error // transport error; Status is 0
}

// Code returns the error code of an OpenAI-shaped error body, "" otherwise.
func (r limReply) Code() string {
	var e limAPIError
	if json.Unmarshal(r.Body, &e) != nil || e.Error == nil {
		return ""
	}
	return e.Error.Code
}

// ErrorShape checks the body is exactly the OpenAI error shape.
func (r limReply) ErrorShape(t *testing.T) limAPIError {
	t.Helper()
	var raw map[string]map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &raw), "error body: %s", r.Body)
	inner, ok := raw["error"]
	require.True(t, ok, "no error object: %s", r.Body)
	for _, k := range []string{"message", "type", "param", "code"} {
		require.Contains(t, inner, k, "error object lacks %q: %s", k, r.Body)
	}
	var e limAPIError
	require.NoError(t, json.Unmarshal(r.Body, &e))
	require.NotEmpty(t, e.Error.Message)
	require.NotEmpty(t, e.Error.Type)
	return e
}

// Usage parses the usage of a non-streamed completion, or of the usage
// chunk of a stream.
func (r limReply) Usage(t *testing.T) limUsage {
	t.Helper()
	if bytes.HasPrefix(bytes.TrimSpace(r.Body), []byte("data:")) {
		return limStreamUsage(t, r.Body)
	}
	var out struct {
		Usage *limUsage `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out), "body: %s", r.Body)
	require.NotNil(t, out.Usage, "no usage in %s", r.Body)
	return *out.Usage
}

func limStreamUsage(t *testing.T, body []byte) limUsage {
	t.Helper()
	var found *limUsage
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	done := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			done = true
			continue
		}
		var ev struct {
			Usage *limUsage `json:"usage"`
		}
		require.NoError(t, json.Unmarshal([]byte(data), &ev), "stream event: %s", data)
		if ev.Usage != nil {
			require.Nil(t, found, "two usage chunks in the stream:\n%s", body)
			u := *ev.Usage
			found = &u
		}
	}
	require.True(t, done, "stream did not end with [DONE]:\n%s", body)
	require.NotNil(t, found, "stream has no usage chunk:\n%s", body)
	return *found
}

// limPost sends a JSON body with the token; transport errors are returned in
// the reply, not fatal, so that goroutines may call it.
func limPost(c *http.Client, url, tok, body string) limReply {
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return limReply{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	if err != nil {
		return limReply{Err: err, Elapsed: time.Since(start)}
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return limReply{Status: resp.StatusCode, Header: resp.Header, Body: b, Err: err, Elapsed: time.Since(start)}
}

// limChatJSON builds a chat completion body. maxTokens 0 leaves the output cap
// to the proxy's default.
func limChatJSON(model, prompt string, maxTokens int, stream bool) string {
	var b strings.Builder
	b.WriteString(`{"model":`)
	b.WriteString(strconv.Quote(model))
	b.WriteString(`,"messages":[{"role":"user","content":`)
	pj, _ := json.Marshal(prompt)
	b.Write(pj)
	b.WriteString(`}]`)
	if maxTokens > 0 {
		b.WriteString(`,"max_tokens":`)
		b.WriteString(strconv.Itoa(maxTokens))
	}
	if stream {
		b.WriteString(`,"stream":true,"stream_options":{"include_usage":true}`)
	}
	b.WriteString(`}`)
	return b.String()
}

// limChat sends one chat completion.
func limChat(c *http.Client, base, tok, model, prompt string, maxTokens int) limReply {
	return limPost(c, base+"/v1/chat/completions", tok, limChatJSON(model, prompt, maxTokens, false))
}

// limBudgetRow is one counter of GET /v1/usage.
type limBudgetRow struct {
	Key      string `json:"key"`
	Limit    int64  `json:"limit"`
	Used     int64  `json:"used"`
	Reserved int64  `json:"reserved"`
}

type limUsageReport struct {
	Budgets []limBudgetRow `json:"budgets"`
}

// Budget returns the row for key; it fails the test if there is none.
func (u limUsageReport) Budget(t *testing.T, key string) limBudgetRow {
	t.Helper()
	for _, b := range u.Budgets {
		if b.Key == key {
			return b
		}
	}
	t.Fatalf("no budget %q in /v1/usage: %+v", key, u.Budgets)
	return limBudgetRow{}
}

// limGetUsage reads GET /v1/usage for the token.
func limGetUsage(t *testing.T, c *http.Client, base, tok string) limUsageReport {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/v1/usage", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, "GET /v1/usage: %s", b)
	var u limUsageReport
	require.NoError(t, json.Unmarshal(b, &u), "GET /v1/usage: %s", b)
	return u
}

// limSettled waits until the token's own budget has no reservation left
// (a stream settles just after its last byte) and returns the row.
func limSettled(t *testing.T, c *http.Client, base, tok, key string) limBudgetRow {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		row := limGetUsage(t, c, base, tok).Budget(t, key)
		if row.Reserved == 0 || time.Now().After(deadline) {
			return row
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// outsideMinuteEdge waits, if needed, so that the next few seconds stay in
// one wall-clock minute: request windows are buckets of now/1m, and a burst
// split across two buckets is allowed up to (1+f) times the limit.
func outsideMinuteEdge(t *testing.T, need time.Duration) {
	t.Helper()
	now := time.Now()
	into := now.Sub(now.Truncate(time.Minute))
	if into+need > time.Minute-time.Second {
		wait := time.Minute - into + 200*time.Millisecond
		t.Logf("waiting %s for the next minute bucket", wait.Round(time.Millisecond))
		time.Sleep(wait)
	}
}

// proxyFleet is proxies started from dirs that share one token database.
type proxyFleet struct {
	procs []*proc
	dirs  []string
	tok   string
	hash  string
}

// startFleet creates the token in the first dir, copies the database into
// the others (same hash key) and starts a proxy in each, all with extra in
// config.yaml.
func startFleet(t *testing.T, n int, fakeURL, extra, policy string) *proxyFleet {
	t.Helper()
	env := limitsEnv()
	f := &proxyFleet{}
	ports := make([]int, n)
	for i := range n {
		ports[i] = freePort(t)
		f.dirs = append(f.dirs, newProxyDir(t, proxySetup{fakeURL: fakeURL, port: ports[i], extra: extra}))
	}
	f.tok, f.hash = createToken(t, f.dirs[0], env, policy)
	db, err := os.ReadFile(filepath.Join(f.dirs[0], "tokenomics.db"))
	require.NoError(t, err)
	for _, d := range f.dirs[1:] {
		require.NoError(t, os.WriteFile(filepath.Join(d, "tokenomics.db"), db, 0o600))
	}
	for i, d := range f.dirs {
		f.procs = append(f.procs, startServe(t, d, ports[i], env))
	}
	return f
}

// limFanOut runs n calls of fn on n goroutines released together.
func limFanOut(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// limPlainWords are common English words: one token each at the fake and
// about one for the estimator, which errs high.
var limPlainWords = strings.Fields(`the quick brown fox jumps over lazy dog and then runs back home
to eat some bread with cheese while birds sing in tall green trees near old river bank`)

// limWords returns n plain words starting at a seed-dependent offset.
func limWords(n, seed int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(limPlainWords[(seed+i)%len(limPlainWords)])
	}
	return b.String()
}

// limitsEnv is proxyEnv plus GORACE, so that a race-built binary
// (TOKENOMICS_BIN built with -race) reports where the test run says.
func limitsEnv(extra ...string) []string {
	if v := os.Getenv("GORACE"); v != "" {
		extra = append(extra, "GORACE="+v)
	}
	return proxyEnv(extra...)
}
