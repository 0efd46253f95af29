package proxy

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkProxyChat1KB is the whole hot path of a non-streamed chat call:
// a fasthttp client on an in-memory listener, the proxy (authenticate,
// parse, route, reserve, rewrite, forward over loopback, read usage,
// settle, answer) and an upstream answering a fixed ~1 KB completion.
// Compare with BenchmarkUpstreamDirect1KB for the proxy's own share.
func BenchmarkProxyChat1KB(b *testing.B) {
	s, tok, _ := newTestServer(b, fixedUpstream(b), `{"max_tokens":0}`)
	c := serveInMemory(b, s)
	benchClient(b, c, "http://proxy/v1/chat/completions", "Bearer "+tok)
}

// BenchmarkUpstreamDirect1KB is the same client and request straight to the
// upstream: the baseline the proxy's cost is measured against.
func BenchmarkUpstreamDirect1KB(b *testing.B) {
	up := fixedUpstream(b)
	c := &fasthttp.Client{MaxConnsPerHost: 512}
	benchClient(b, c, up+"/v1/chat/completions", "Bearer "+testProviderKey)
}

func benchClient(b *testing.B, c *fasthttp.Client, url, auth string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(chatRequest1KB)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		for pb.Next() {
			req.Reset()
			req.SetRequestURI(url)
			req.Header.SetMethod("POST")
			req.Header.Set("Authorization", auth)
			req.Header.SetContentType("application/json")
			req.SetBodyRaw(chatRequest1KB)
			if err := c.DoTimeout(req, resp, 10*time.Second); err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode() != 200 {
				b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
			}
		}
	})
}

// BenchmarkProxyHandlerChat1KB runs only the proxy's handler on a reused
// RequestCtx (no client, no listener): its allocs/op are the proxy's own
// per-request allocations, upstream client included.
func BenchmarkProxyHandlerChat1KB(b *testing.B) { benchHandlerChat1KB(b, `{"max_tokens":0}`) }

// benchHandlerChat1KB runs the 1 KB chat request through the handler on a
// reused RequestCtx for a token of policy.
func benchHandlerChat1KB(b *testing.B, policy string) {
	s, tok, _ := newTestServer(b, fixedUpstream(b), policy)
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
