package test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// Bounds of the proxy's own count against the fake's tokenizer when a
// provider reports no usage. The proxy's estimator errs high on purpose
// (a budget must not be overspent); measured ratio on filler text about
// 1.4. Outside [0.7, 2.0] the estimate is useless for budgets.
const (
	estimateMinRatio = 0.7
	estimateMaxRatio = 2.0
)

// TestProxyUsageWithoutReport: when the provider reports no usage (stream
// or body), the proxy charges its own count: positive, close to the
// fake's, the same whether streamed or not, and nothing stays reserved.
func TestProxyUsageWithoutReport(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	const prompt = "The quick brown fox jumps over the lazy dog, then runs into the forest to find its friends."
	type variant struct {
		name, path, body string
	}
	variants := []variant{
		{"chat stream", "/v1/chat/completions", pxChat("gpt-4o", "[[fake:nousage,long=100]] "+prompt, true, `"stream_options":{"include_usage":true}`)},
		{"chat body", "/v1/chat/completions", pxChat("gpt-4o", "[[fake:nousage,long=100]] "+prompt, false, "")},
		{"messages stream", "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":500,"stream":true,"messages":[{"role":"user","content":"[[fake:nousage,long=100]] ` + prompt + `"}]}`},
		{"translated stream", "/v1/chat/completions", pxChat("claude-sonnet-4-6", "[[fake:nousage,long=100]] "+prompt, true, "")},
	}
	used := map[string]int64{}
	for _, v := range variants {
		tok, _ := px.token(t, `{"max_tokens":100000}`)
		px.fake.Reset()
		r := pxPost(t, px.url+v.path, tok, v.body)
		require.Equal(t, 200, r.status, "%s: %s", v.name, r.body)
		assert.NotContains(t, string(r.body), `"prompt_tokens"`, "%s: the fake sent no usage", v.name)
		up, ok := px.fake.LastRequest()
		require.True(t, ok)
		fake := pxPredictTotal(t, up)
		b := pxSettled(t, px.url, tok)
		assert.Zero(t, b.Reserved, v.name)
		require.Positive(t, b.Used, "%s: an unreported call is still charged", v.name)
		ratio := float64(b.Used) / float64(fake)
		t.Logf("%s: proxy estimate %d, fake count %d, ratio %.2f", v.name, b.Used, fake, ratio)
		assert.GreaterOrEqual(t, ratio, estimateMinRatio, v.name)
		assert.LessOrEqual(t, ratio, estimateMaxRatio, v.name)
		used[v.name] = b.Used
	}
	assert.Equal(t, used["chat body"], used["chat stream"], "the same text is estimated the same, streamed or not")
}

// TestProxyGzipUpstream: a provider that compresses its answers is still
// read: the client gets plain JSON or SSE, and usage is charged exactly.
func TestProxyGzipUpstream(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	cases := []struct {
		name string
		path string
		body string
		read func(*testing.T, []byte) pxAnswer
	}{
		{"chat", "/v1/chat/completions", pxChat("gpt-4o", "[[fake:gzip]] zipped1", false, ""), pxReadChat},
		{"chat stream", "/v1/chat/completions", pxChat("gpt-4o", "[[fake:gzip]] zipped2", true, `"stream_options":{"include_usage":true}`), pxReadChatStream},
		{"translated", "/v1/chat/completions", pxChat("claude-sonnet-4-6", "[[fake:gzip]] zipped3", false, ""), pxReadChat},
		{"messages stream", "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"[[fake:gzip]] zipped4"}]}`, pxReadMessagesStream},
		{"embeddings", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"[[fake:gzip]] zipped5"}`, pxReadEmbedding},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, _ := px.token(t, `{"max_tokens":100000}`)
			// identity: Go's client must not hide a compressed answer.
			r := pxPost(t, px.url+tc.path, tok, tc.body, "Accept-Encoding", "identity")
			require.Equal(t, 200, r.status, string(r.body))
			assert.Empty(t, r.header.Get("Content-Encoding"))
			got := tc.read(t, r.body)
			marker := fmt.Sprintf("zipped%d", i+1)
			up := pxFindRequest(t, px.fake, marker)
			want := pxPredictTotal(t, up)
			if tc.path != "/v1/embeddings" {
				assert.Equal(t, "Echo: "+marker, got.text)
			}
			assert.Equal(t, want, got.usage)
			b := pxSettled(t, px.url, tok)
			assert.Equal(t, want, b.Used)
			assert.Zero(t, b.Reserved)
		})
	}
}

// TestProxyClientDisconnect: a client that leaves mid-stream is charged for
// what was produced until then (more than nothing, less than the whole
// answer), the upstream call is abandoned and the proxy keeps serving.
func TestProxyClientDisconnect(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	cases := []struct{ name, path, body string }{
		{"openai chat", "/v1/chat/completions", pxChat("gpt-4o", "[[fake:long=400]] [[fake:slow=5ms]] leave early", true, "")},
		{"translated chat", "/v1/chat/completions", pxChat("claude-sonnet-4-6", "[[fake:long=400]] [[fake:slow=5ms]] leave early", true, `"max_tokens":1000`)},
		{"anthropic messages", "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":1000,"stream":true,"messages":[{"role":"user","content":"[[fake:long=400]] [[fake:slow=5ms]] leave early"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, _ := px.token(t, `{"max_tokens":100000}`)
			full, err := fakeupstream.Predict(tc.path, []byte(tc.body))
			require.NoError(t, err)
			fullTotal := int64(full.PromptTokens + full.CompletionTokens)

			conn, err := net.Dial("tcp", strings.TrimPrefix(px.url, "http://"))
			require.NoError(t, err)
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
				tc.path, tok, len(tc.body), tc.body)
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			require.Equal(t, 200, resp.StatusCode)
			sc := bufio.NewScanner(resp.Body)
			events := 0
			for events < 10 && sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data:") {
					events++
				}
			}
			require.Equal(t, 10, events)
			require.NoError(t, conn.Close())
			left := time.Now()

			b := pxSettled(t, px.url, tok)
			t.Logf("settled %v after the client left: used %d of a full %d", time.Since(left), b.Used, fullTotal)
			assert.Zero(t, b.Reserved, "the lease is settled once the client is gone")
			assert.Positive(t, b.Used, "what was produced is charged")
			assert.Less(t, b.Used, fullTotal, "what was never produced is not charged")
			assert.Eventually(t, func() bool { return px.fake.Active() == 0 }, 2*time.Second, 10*time.Millisecond,
				"the upstream call is abandoned, not read to the end (400 tokens at 5ms take 2s)")

			r := pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "still serving", false, ""))
			require.Equal(t, 200, r.status, string(r.body))
			assert.Equal(t, "Echo: still serving", pxReadChat(t, r.body).text)
		})
	}
}
