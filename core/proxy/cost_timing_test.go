package proxy

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkProxyHandlerChat1KBDollarBudget is BenchmarkProxyHandlerChat1KB
// for a token with a dollar budget: the price lookup, the second limiter
// call on the token's dollar subject and its settle. Compare allocs/op and
// ns/op with BenchmarkProxyHandlerChat1KB for what dollar budgets cost.
func BenchmarkProxyHandlerChat1KBDollarBudget(b *testing.B) {
	s, tok, _ := newTestServer(b, fixedUpstream(b), `{"max_tokens":0,"max_cost_usd":1000000}`)
	auth := "Bearer " + tok
	var ctx fasthttp.RequestCtx
	var req fasthttp.Request
	b.ReportAllocs()
	b.SetBytes(int64(len(chatRequest1KB)))
	b.ResetTimer()
	for b.Loop() {
		req.Reset()
		req.SetRequestURI("/v1/chat/completions")
		req.Header.SetMethod("POST")
		req.Header.Set("Authorization", auth)
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(chatRequest1KB)
		ctx.Init(&req, nil, nil)
		s.handle(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}
