package test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxyConcurrentUsageExact: many requests of every kind in flight at
// once on one token (streams settled by relays after their handlers have
// returned, pooled exchanges reused meanwhile) still add up exactly to
// what the upstream reported, and every answer is its own request's.
func TestProxyConcurrentUsageExact(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"max_tokens":10000000}`)
	const n = 60
	kinds := []struct {
		path string
		body func(m string) string
		read func(*testing.T, []byte) pxAnswer
	}{
		{"/v1/chat/completions", func(m string) string { return pxChat("gpt-4o", m+" with a longer prompt to vary sizes", false, "") }, pxReadChat},
		{"/v1/chat/completions", func(m string) string {
			return pxChat("gpt-4o-mini", m+" [[fake:slow=2ms]]", true, "")
		}, pxReadChatStream},
		{"/v1/chat/completions", func(m string) string { return pxChat("claude-sonnet-4-6", m, true, "") }, pxReadChatStream},
		{"/v1/messages", func(m string) string {
			return `{"model":"claude-haiku-4-5","max_tokens":300,"stream":true,"messages":[{"role":"user","content":"` + m + `"}]}`
		}, pxReadMessagesStream},
		{"/v1/messages", func(m string) string {
			return `{"model":"claude-haiku-4-5","max_tokens":300,"messages":[{"role":"user","content":"` + m + `"}]}`
		}, pxReadMessages},
		{"/v1/responses", func(m string) string { return `{"model":"gpt-4o","input":"` + m + `","stream":true}` }, pxReadResponsesStream},
	}
	var wg sync.WaitGroup
	texts := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := kinds[i%len(kinds)]
			marker := fmt.Sprintf("conc%03d", i)
			r := pxPost(t, px.url+k.path, tok, k.body(marker))
			if !assert.Equal(t, 200, r.status, string(r.body)) {
				return
			}
			texts[i] = k.read(t, r.body).text
		}()
	}
	wg.Wait()
	var want int64
	for i := range n {
		marker := fmt.Sprintf("conc%03d", i)
		up := pxFindRequest(t, px.fake, marker)
		want += pxPredictTotal(t, up)
		assert.Contains(t, texts[i], marker, "request %d got another request's answer", i)
	}
	b := pxSettled(t, px.url, tok)
	require.Zero(t, b.Reserved)
	assert.Equal(t, want, b.Used, "concurrent usage adds up exactly")
}
