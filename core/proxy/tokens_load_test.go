package proxy

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// loadContractorPolicy is the seed's contractor policy (cmd/loadgen's copy,
// memory block left out): three content rules, a prompt, rate limits.
const loadContractorPolicy = `{"base_key_env":"OPENAI_API_KEY","model_regex":"^gpt-4o","max_tokens":1000000000000,"timeout":30,
"prompts":[{"role":"system","content":"You are a helpful coding assistant. Only answer programming-related questions."}],
"rules":[{"name":"pii-mask","type":"pii","detect":["ssn","credit_card","email","phone","aws_key","api_key"],"action":"mask","scope":"both"},
{"name":"prompt-injection","type":"regex","pattern":"(?i)(ignore.*instructions|system.*prompt|you are now)","action":"fail"},
{"name":"dangerous-keywords","type":"keyword","keywords":["jailbreak","bypass","override","hack"],"action":"fail"}],
"rate_limit":{"rules":[{"requests":1000000,"window":"1m"},{"tokens":1000000000,"window":"1h"}],"max_parallel":10000}}`

// fleetRecords is n token records, nine in ten with the contractor policy
// and one in ten without rules. Their metadata names one of 20 teams (as
// the seed's role policies do), or with perToken each token's holder, so
// that no two policies are byte-equal.
func fleetRecords(tb testing.TB, n int, perToken bool) []store.Record {
	tb.Helper()
	recs := make([]store.Record, n)
	for i := range recs {
		base := loadContractorPolicy
		if i%10 == 9 {
			base = `{"model_regex":"^gpt-4o","max_tokens":1000000000000}`
		}
		var p map[string]any
		require.NoError(tb, json.Unmarshal([]byte(base), &p))
		md := map[string]string{"team": fmt.Sprintf("team-%d", i%20)}
		if perToken {
			md["holder"] = fmt.Sprintf("load-%05d", i)
		}
		p["metadata"] = md
		b, err := json.Marshal(p)
		require.NoError(tb, err)
		recs[i] = store.Record{Hash: fmt.Sprintf("%064x", i*7919), Policy: b, Revision: uint64(i + 1)}
	}
	return recs
}

// BenchmarkTokenLoad loads a fleet of 10,000 tokens into the token cache,
// as New does at start: time per token, and the heap the loaded cache holds
// per token (live after a GC; the rule plugins are shared by all and load
// in the background, so they are not part of it). "roles": 40 distinct
// policies (two roles, 20 teams); "per-token": every policy differs.
func BenchmarkTokenLoad(b *testing.B) {
	for _, shape := range []struct {
		name     string
		perToken bool
	}{{"roles", false}, {"per-token", true}} {
		b.Run(shape.name, func(b *testing.B) { benchmarkTokenLoad(b, shape.perToken) })
	}
}

func benchmarkTokenLoad(b *testing.B, perToken bool) {
	const n = 10_000
	s, _, _ := newLoadingServer(b, "http://127.0.0.1:1", sharedWasmCache(b), 0)
	recs := fleetRecords(b, n, perToken)
	// Load once and let the rule plugins load, so the measured loads do
	// not race their compilation; that cache is then dropped.
	warm := newTokenCache(s.buildEntry, s.log)
	warm.load(recs)
	waitRulesLoaded(b, s)
	warm = nil
	var ms runtime.MemStats
	var held uint64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		c := newTokenCache(s.buildEntry, s.log)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		b.StartTimer()
		c.load(recs)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		held = ms.HeapAlloc - min(before, ms.HeapAlloc)
		runtime.KeepAlive(c)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/token")
	b.ReportMetric(float64(held)/n, "heap-B/token")
}
