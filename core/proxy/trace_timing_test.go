package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tracing"
)

// observedServer is newTestServer with the fleet hooks chosen: usage
// rollups and a tracer (nil for off).
func observedServer(tb testing.TB, usage *rollup.Aggregator, tr *tracing.Tracer) (*Server, string) {
	tb.Helper()
	cfg := &config.Config{Providers: []config.Provider{{Name: "openai", UpstreamURL: fixedUpstream(tb),
		APIKeyEnv: "OPENAI_API_KEY", Models: []string{"gpt-4o", "gpt-4o-mini"}}}}
	cfg.SetDefaults()
	db, err := store.Open(filepath.Join(tb.TempDir(), "tokens.db"),
		store.Options{HashKey: []byte("bench-hash-key-0123456789abcdef0123"), LockTimeout: time.Second})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	tok, _, err := db.Create([]byte(`{"max_tokens":0}`), nil)
	require.NoError(tb, err)
	lim, err := limits.NewMemory(limits.MemoryOptions{})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = lim.Close() })
	s, err := New(Options{Config: cfg, Tokens: db, Hasher: db.Hasher(), Limiter: lim, Usage: usage, Tracer: tr,
		Getenv: func(k string) string {
			if k == "OPENAI_API_KEY" {
				return testProviderKey
			}
			return ""
		}})
	require.NoError(tb, err)
	return s, tok
}

// sinkTracer exports to a collector that discards everything.
func sinkTracer(tb testing.TB, ratio float64) *tracing.Tracer {
	tb.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	tb.Cleanup(sink.Close)
	tr, err := tracing.New(context.Background(), tracing.Options{Enabled: true, Endpoint: sink.URL, SampleRatio: ratio, ServiceName: "bench"})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr
}

// handlerLoop returns one handled chat call on a reused RequestCtx.
func handlerLoop(tb testing.TB, s *Server, tok string) func() {
	auth := "Bearer " + tok
	ctx := new(fasthttp.RequestCtx)
	req := new(fasthttp.Request)
	return func() {
		req.Reset()
		req.SetRequestURI("/v1/chat/completions")
		req.Header.SetMethod("POST")
		req.Header.Set("Authorization", auth)
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(chatRequest1KB)
		ctx.Init(req, nil, nil)
		s.handle(ctx)
		if ctx.Response.StatusCode() != 200 {
			tb.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

// TestObservabilityOffAllocs: usage rollups on and tracing off add no
// allocation to a request: the handler allocates exactly what it does
// without either hook.
func TestObservabilityOffAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race are the detector's")
	}
	base, btok := observedServer(t, nil, nil)
	hooked, htok := observedServer(t, rollup.NewAggregator(), nil)
	runBase, runHooked := handlerLoop(t, base, btok), handlerLoop(t, hooked, htok)
	runBase()
	runHooked()
	// The minimum of a few rounds: a GC cycle or a pool refill in one
	// round must not decide the comparison.
	measure := func(f func()) float64 {
		best := -1.0
		for range 5 {
			if a := testing.AllocsPerRun(200, f); best < 0 || a < best {
				best = a
			}
		}
		return best
	}
	require.Equal(t, measure(runBase), measure(runHooked))
}

// BenchmarkProxyHandlerObservability compares the handler without hooks,
// with usage rollups and tracing off (the default), with tracing on but
// sampling nothing, and with every request traced.
func BenchmarkProxyHandlerObservability(b *testing.B) {
	cases := []struct {
		name  string
		usage bool
		ratio float64 // <0: no tracer
	}{
		{name: "baseline", ratio: -1},
		{name: "rollups_tracing_off", usage: true, ratio: -1},
		{name: "tracing_sampled_0", usage: true, ratio: 0},
		{name: "tracing_sampled_1", usage: true, ratio: 1},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var agg *rollup.Aggregator
			if tc.usage {
				agg = rollup.NewAggregator()
			}
			var tr *tracing.Tracer
			if tc.ratio >= 0 {
				tr = sinkTracer(b, tc.ratio)
			}
			s, tok := observedServer(b, agg, tr)
			run := handlerLoop(b, s, tok)
			b.ReportAllocs()
			b.SetBytes(int64(len(chatRequest1KB)))
			b.ResetTimer()
			for b.Loop() {
				run()
			}
		})
	}
}
