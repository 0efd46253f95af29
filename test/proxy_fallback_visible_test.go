package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestProxyFallbackVisible: an answer from a fallback model says so in
// its headers (streamed or not), and the proxy's log says why; a retry of
// the requested model is counted; a first-try answer carries none of it.
func TestProxyFallbackVisible(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"max_tokens":100000,"retry":{"max_retries":1,"retry_on":[503],"fallbacks":["gpt-4o-mini"]}}`)
	down := []fakeupstream.Scripted{{Model: "gpt-4o", Status: 503}, {Model: "gpt-4o", Status: 503}}

	for _, stream := range []bool{false, true} {
		px.fake.Reset()
		require.NoError(t, px.fake.Script(down...))
		r := pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "who answers?", stream, ""))
		require.Equal(t, 200, r.status, string(r.body))
		assert.Equal(t, "gpt-4o-mini", r.header.Get("X-Tokenomics-Model"), "stream=%t", stream)
		assert.Equal(t, "gpt-4o", r.header.Get("X-Tokenomics-Fallback-From"), "stream=%t", stream)
		assert.Equal(t, "3", r.header.Get("X-Tokenomics-Attempts"), "stream=%t", stream)
	}
	logs := px.p.Logs()
	assert.Contains(t, logs, "answered by a fallback model")
	assert.Contains(t, logs, "requested=gpt-4o model=gpt-4o-mini")
	assert.Contains(t, logs, "reason=\"gpt-4o: upstream answered 503\"")

	// A retry that succeeds on the requested model: counted, no fallback.
	px.fake.Reset()
	require.NoError(t, px.fake.Script(down[0]))
	r := pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "second try", false, ""))
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, "gpt-4o", r.header.Get("X-Tokenomics-Model"))
	assert.Equal(t, "2", r.header.Get("X-Tokenomics-Attempts"))
	assert.Empty(t, r.header.Get("X-Tokenomics-Fallback-From"))

	// The first try answers: nothing added.
	r = pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "first try", false, ""))
	require.Equal(t, 200, r.status, string(r.body))
	for k := range r.header {
		assert.False(t, strings.HasPrefix(k, "X-Tokenomics-"), "header %s on a first-try answer", k)
	}
}
