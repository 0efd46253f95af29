package test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// usageFault stands in front of central. Usage batches pass through to
// central, but the first `drop` acknowledgements are lost: central stored
// the batch, and the proxy sees its connection close before an answer, so
// it must send the same batch again. While down is set, usage batches get
// 503 without reaching central. Everything else is forwarded untouched.
type usageFault struct {
	target  *url.URL
	rp      *httputil.ReverseProxy
	drop    atomic.Int64 // acknowledgements still to lose
	dropped atomic.Int64
	down    atomic.Bool
	mu      sync.Mutex
	ids     map[string]int // batch id → times seen
}

func startUsageFault(t *testing.T, centralURL string, drop int64) (*usageFault, string) {
	t.Helper()
	u, err := url.Parse(centralURL)
	require.NoError(t, err)
	f := &usageFault{target: u, rp: httputil.NewSingleHostReverseProxy(u), ids: map[string]int{}}
	f.drop.Store(drop)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f, "http://" + ln.Addr().String()
}

func (f *usageFault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/usage" || r.Method != http.MethodPost {
		f.rp.ServeHTTP(w, r)
		return
	}
	if f.down.Load() {
		http.Error(w, "central is down", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var probe struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &probe)
	f.mu.Lock()
	f.ids[probe.ID]++
	f.mu.Unlock()
	req, err := http.NewRequest(http.MethodPost, f.target.String()+r.URL.Path, strings.NewReader(string(body)))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	ack, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK && f.drop.Add(-1) >= 0 {
		// Central has stored it; the proxy never hears so.
		f.dropped.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(ack)
}

// resent is how many batch ids the proxies sent more than once.
func (f *usageFault) resent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.ids {
		if c > 1 {
			n++
		}
	}
	return n
}

// usageTotals are the figures the tests compare, per group.
type usageTotals struct {
	Requests, Input, Cached, Output, Reasoning, Refusals int64
}

type usageRowJSON struct {
	Group             string           `json:"group"`
	Requests          int64            `json:"requests"`
	InputTokens       int64            `json:"input_tokens"`
	CachedInputTokens int64            `json:"cached_input_tokens"`
	OutputTokens      int64            `json:"output_tokens"`
	ReasoningTokens   int64            `json:"reasoning_tokens"`
	CostMicros        int64            `json:"cost_micros"`
	Refusals          map[string]int64 `json:"refusals"`
}

func totalsOf(rows []usageRowJSON) map[string]usageTotals {
	out := map[string]usageTotals{}
	for _, r := range rows {
		if r.Group == "" {
			continue // refused before the token (or model) was known: the warm-up's 401s
		}
		var ref int64
		for _, n := range r.Refusals {
			ref += n
		}
		out[r.Group] = usageTotals{Requests: r.Requests, Input: r.InputTokens, Cached: r.CachedInputTokens,
			Output: r.OutputTokens, Reasoning: r.ReasoningTokens, Refusals: ref}
	}
	return out
}

// centralUsage asks central's API for the report by dimension.
func centralUsage(t *testing.T, centralURL, by string, key ...string) []usageRowJSON {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, centralURL+"/api/v1/usage?by="+by+"&since=1h", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+append(key, centralKey)[0])
	resp, err := apiClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Rows []usageRowJSON `json:"rows"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Rows
}

// fakeTotalsByModel is what the fake upstream reported for the requests it
// answered, per model: its own usage computation on the bodies it got.
func fakeTotalsByModel(t *testing.T, fake *fakeupstream.Server) map[string]usageTotals {
	t.Helper()
	out := map[string]usageTotals{}
	for _, r := range fake.Requests() {
		if r.Method != http.MethodPost {
			continue
		}
		var body struct {
			Model string `json:"model"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		p, err := fakeupstream.Predict(r.Path, r.Body)
		require.NoError(t, err)
		tt := out[body.Model]
		tt.Requests++
		tt.Input += int64(p.PromptTokens)
		tt.Cached += int64(p.CachedTokens)
		tt.Output += int64(p.CompletionTokens)
		tt.Reasoning += int64(p.ReasoningTokens)
		out[body.Model] = tt
	}
	return out
}

// usageFleet is a central server behind a usageFault and two proxies that
// sync from, and send their usage to, it through the fault.
type usageFleet struct {
	fake       *fakeupstream.Server
	fault      *usageFault
	centralURL string
	central    *proc
	proxyDirs  []string
	proxyPorts []int
	proxies    []*proc
	env        []string
}

func startUsageFleet(t *testing.T, drop int64) *usageFleet {
	t.Helper()
	f := &usageFleet{fake: startFake(t, fakeupstream.Options{}), env: proxyEnv()}
	cport := freePort(t)
	f.centralURL = fmt.Sprintf("http://127.0.0.1:%d", cport)
	cdir := newCentralDir(t, centralSetup{fakeURL: f.fake.URL()})
	f.central = startRemote(t, cdir, cport, f.env)
	var faultURL string
	f.fault, faultURL = startUsageFault(t, f.centralURL, drop)
	for range 2 {
		port := freePort(t)
		extra := syncedProxy(faultURL, 1, false) + "usage:\n  interval: 1s\n"
		dir := newProxyDir(t, proxySetup{fakeURL: f.fake.URL(), port: port, extra: extra})
		p := startServe(t, dir, port, f.env)
		pxNoRace(t, p)
		f.proxyDirs = append(f.proxyDirs, dir)
		f.proxyPorts = append(f.proxyPorts, port)
		f.proxies = append(f.proxies, p)
	}
	return f
}

// waitUsage polls central until its by-model report equals want.
func waitUsage(t *testing.T, centralURL string, want map[string]usageTotals) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var got map[string]usageTotals
	for time.Now().Before(deadline) {
		got = totalsOf(centralUsage(t, centralURL, "model"))
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("central's usage by model never matched:\n got %v\nwant %v", got, want)
}

// TestUsageFleetRollups: two proxies send their rollups to central through
// a fault that loses the acknowledgement of the first batches after
// central stored them. The proxies send those batches again, central
// counts each once, and both central's API and `tokenomics usage --by
// model` equal the fake upstream's own totals; refusals arrive by reason.
func TestUsageFleetRollups(t *testing.T) {
	t.Parallel()
	f := startUsageFleet(t, 2)
	tok, _ := apiCreate(t, f.centralURL)
	// The token reaches the proxies on their one-second poll.
	waitAll(t, []string{f.proxies[0].URL, f.proxies[1].URL}, tok, "warm", 200, 60*time.Second)

	models := []string{"gpt-4o", "gpt-4o-mini"}
	for i := range 12 {
		p := f.proxies[i%2]
		model := models[i%len(models)]
		text := fmt.Sprintf("usage fleet %d [[fake:cached=%d]] [[fake:reasoning=%d]]", i, i%4, i%3)
		r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat(model, text, i%3 == 0, ""))
		require.Equal(t, 200, r.status, "%s", r.body)
	}
	// Refusals: a model the policy does not allow, and a wrong token.
	for _, p := range f.proxies {
		r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("o3-mini", "not allowed", false, ""))
		require.Equal(t, 403, r.status, "%s", r.body)
	}

	want := fakeTotalsByModel(t, f.fake)
	want["o3-mini"] = usageTotals{Refusals: 2}
	waitUsage(t, f.centralURL, want)
	for _, r := range centralUsage(t, f.centralURL, "model") {
		if r.Requests > 0 {
			require.Positive(t, r.CostMicros, "%s is priced by the shipped table", r.Group)
		}
	}
	require.EqualValues(t, 2, f.fault.dropped.Load(), "acknowledgements lost")
	require.Eventually(t, func() bool { return f.fault.resent() >= 2 }, 30*time.Second, 100*time.Millisecond,
		"the batches whose acknowledgement was lost were not sent again")
	dup, ok := metricValue(t, f.centralURL, `tokenomics_usage_batches_received_total{outcome="duplicate"}`)
	require.True(t, ok)
	require.GreaterOrEqual(t, dup, 2.0)
	// Retries keep coming every second while anything is pending: after
	// they are done, the figures still hold (nothing counted twice).
	require.Eventually(t, func() bool {
		v, _ := metricValue(t, f.proxies[0].URL, "tokenomics_usage_batches_pending")
		w, _ := metricValue(t, f.proxies[1].URL, "tokenomics_usage_batches_pending")
		return v == 0 && w == 0
	}, 30*time.Second, 100*time.Millisecond)
	waitUsage(t, f.centralURL, want)

	// The CLI reports the same, in every format.
	cliEnv := append(append([]string{}, f.env...), "TOKENOMICS_REMOTE_KEY="+centralKey)
	res := run(t, t.TempDir(), cliEnv, "usage", "--remote", f.centralURL, "--by", "model", "--since", "1h", "--format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	var rep struct {
		By   string         `json:"by"`
		Rows []usageRowJSON `json:"rows"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	require.Equal(t, "model", rep.By)
	require.Equal(t, fmt.Sprint(want), fmt.Sprint(totalsOf(rep.Rows)))

	res = run(t, t.TempDir(), cliEnv, "usage", "--remote", f.centralURL, "--by", "model", "--format", "csv")
	require.Equal(t, 0, res.code, res.stderr)
	recs, err := csv.NewReader(strings.NewReader(res.stdout)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"model", "requests", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens", "cost_usd", "refusals"}, recs[0])
	for _, rec := range recs[1:] {
		if rec[0] == "" {
			continue
		}
		w := want[rec[0]]
		require.Equal(t, fmt.Sprint(w.Requests), rec[1], rec[0])
		require.Equal(t, fmt.Sprint(w.Input), rec[2], rec[0])
		require.Equal(t, fmt.Sprint(w.Output), rec[4], rec[0])
	}

	res = run(t, t.TempDir(), cliEnv, "usage", "--remote", f.centralURL, "--by", "token")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "TOTAL")

	// Offline, on one stopped proxy's own file: its share of the same.
	f.proxies[0].Stop(t)
	res = run(t, f.proxyDirs[0], cliEnv, "usage", "--local", "--by", "provider", "--since", "1h", "--format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	local := totalsOf(rep.Rows)
	require.Positive(t, local["openai"].Requests, res.stdout)
	require.Less(t, local["openai"].Requests, want["gpt-4o"].Requests+want["gpt-4o-mini"].Requests)
	// A running proxy's file is read through its local admin endpoint:
	// the two proxies' shares make the whole.
	res = run(t, f.proxyDirs[1], cliEnv, "usage", "--local", "--by", "provider", "--since", "1h", "--format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	running := totalsOf(rep.Rows)
	require.Equal(t, want["gpt-4o"].Requests+want["gpt-4o-mini"].Requests, local["openai"].Requests+running["openai"].Requests, res.stdout)
}

// TestUsageSurvivesRestart: rollups a proxy could not send while central
// was unreachable stay in its file across a restart and reach central
// once it is back.
func TestUsageSurvivesRestart(t *testing.T) {
	t.Parallel()
	f := startUsageFleet(t, 0)
	tok, _ := apiCreate(t, f.centralURL)
	p := f.proxies[0]
	waitAll(t, []string{p.URL}, tok, "warm", 200, 60*time.Second)
	f.fault.down.Store(true)
	for i := range 4 {
		r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", fmt.Sprintf("restart %d", i), false, ""))
		require.Equal(t, 200, r.status, "%s", r.body)
	}
	require.Eventually(t, func() bool {
		v, _ := metricValue(t, p.URL, "tokenomics_usage_batches_pending")
		return v >= 1
	}, 30*time.Second, 100*time.Millisecond, "the proxy queued no batch while central was down")
	p.Stop(t)
	f.fault.down.Store(false)
	p = startServe(t, f.proxyDirs[0], f.proxyPorts[0], f.env)
	f.proxies[0] = p
	want := fakeTotalsByModel(t, f.fake)
	waitUsage(t, f.centralURL, want)
}
