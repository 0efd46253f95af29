package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxyPolicyPrompts: the policy's prompts reach the upstream ahead of
// the client's own text on every endpoint that has prompts (never on
// embeddings), and their tokens are charged.
func TestProxyPolicyPrompts(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	const sys = "You are policy bot, answer briefly."
	tok, _ := px.token(t, `{"max_tokens":100000,"prompts":[{"role":"system","content":"`+sys+`"}]}`)
	cases := []struct {
		name  string
		path  string
		body  string
		check func(t *testing.T, up pxAny)
	}{
		{"openai chat", "/v1/chat/completions",
			`{"model":"gpt-4o","messages":[{"role":"system","content":"client system"},{"role":"user","content":"prompt-chat"}]}`,
			func(t *testing.T, up pxAny) {
				msgs, _ := up["messages"].([]any)
				require.Len(t, msgs, 3)
				assert.Equal(t, "system", pxStr(msgs, 0, "role"))
				assert.Equal(t, sys, pxStr(msgs, 0, "content"))
				assert.Equal(t, "client system", pxStr(msgs, 1, "content"))
				assert.Equal(t, "prompt-chat", pxStr(msgs, 2, "content"))
			}},
		{"openai chat stream", "/v1/chat/completions",
			pxChat("gpt-4o", "prompt-stream", true, ""),
			func(t *testing.T, up pxAny) {
				assert.Equal(t, sys, pxStr(up, "messages", 0, "content"))
				assert.Equal(t, "prompt-stream", pxStr(up, "messages", 1, "content"))
			}},
		{"chat translated to anthropic", "/v1/chat/completions",
			pxChat("claude-sonnet-4-6", "prompt-translated", false, ""),
			func(t *testing.T, up pxAny) {
				assert.Contains(t, pxSystemText(up["system"]), sys)
				assert.Equal(t, "user", pxStr(up, "messages", 0, "role"))
			}},
		{"anthropic messages", "/v1/messages",
			`{"model":"claude-sonnet-4-6","max_tokens":100,"system":"client system","messages":[{"role":"user","content":"prompt-messages"}]}`,
			func(t *testing.T, up pxAny) {
				s := pxSystemText(up["system"])
				require.Contains(t, s, sys)
				require.Contains(t, s, "client system")
				assert.Less(t, strings.Index(s, sys), strings.Index(s, "client system"), "policy prompt first")
			}},
		{"responses", "/v1/responses",
			`{"model":"gpt-4o","instructions":"client instructions","input":"prompt-responses"}`,
			func(t *testing.T, up pxAny) {
				ins := pxStr(up, "instructions")
				assert.True(t, strings.HasPrefix(ins, sys), "instructions start with the policy prompt: %q", ins)
				assert.Contains(t, ins, "client instructions")
			}},
		{"completions", "/v1/completions",
			`{"model":"gpt-3.5-turbo-instruct","prompt":"prompt-completions"}`,
			func(t *testing.T, up pxAny) {
				p := pxStr(up, "prompt")
				assert.True(t, strings.HasPrefix(p, sys), "prompt starts with the policy prompt: %q", p)
				assert.True(t, strings.HasSuffix(p, "prompt-completions"), p)
			}},
		{"embeddings untouched", "/v1/embeddings",
			`{"model":"text-embedding-3-small","input":"prompt-embeddings"}`,
			func(t *testing.T, up pxAny) {
				assert.Equal(t, "prompt-embeddings", pxStr(up, "input"))
				assert.NotContains(t, fmt.Sprint(up), sys)
			}},
	}
	var total int64
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := pxPost(t, px.url+tc.path, tok, tc.body)
			require.Equal(t, 200, r.status, string(r.body))
			up, ok := px.fake.LastRequest()
			require.True(t, ok)
			var m pxAny
			require.NoError(t, json.Unmarshal(up.Body, &m), string(up.Body))
			tc.check(t, m)
			total += pxPredictTotal(t, up)
		})
	}
	b := pxSettled(t, px.url, tok)
	assert.Equal(t, total, b.Used, "the prompts' tokens are charged with the rest")
	assert.Zero(t, b.Reserved)
}

// pxSystemText flattens Anthropic's system (a string or text blocks).
func pxSystemText(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []any:
		var b strings.Builder
		for _, blk := range s {
			b.WriteString(pxStr(blk, "text"))
			b.WriteString("\n")
		}
		return b.String()
	}
	return ""
}

// TestProxyUpstreamHeaders: the upstream gets the provider key in the
// provider's scheme; the client's token, its credentials and hop-by-hop
// headers never reach it.
func TestProxyUpstreamHeaders(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"max_tokens":100000}`)
	cases := []struct {
		name      string
		path      string
		body      string
		auth      string // the client's token header line
		keyHeader string
		keyValue  string
		noHeader  string // a credential header the upstream must not get
	}{
		{"openai bearer", "/v1/chat/completions", pxChat("gpt-4o", "headers-openai", false, ""),
			"Authorization: Bearer " + tok, "Authorization", "Bearer " + fakeOpenAIKey, "X-Api-Key"},
		{"openai stream x-api-key", "/v1/chat/completions", pxChat("gpt-4o", "headers-stream", true, ""),
			"X-Api-Key: " + tok, "Authorization", "Bearer " + fakeOpenAIKey, "X-Api-Key"},
		{"anthropic x-api-key", "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":"headers-anthropic"}]}`,
			"X-Api-Key: " + tok, "X-Api-Key", fakeAnthropicKey, "Authorization"},
		{"translated raw authorization", "/v1/chat/completions", pxChat("claude-sonnet-4-6", "headers-translated", false, ""),
			"Authorization: " + tok, "X-Api-Key", fakeAnthropicKey, "Authorization"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(px.url, "http://"))
			require.NoError(t, err)
			defer conn.Close()
			// A hop-by-hop set a client or a forward proxy in front might send.
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: proxy\r\n%s\r\n"+
				"Connection: keep-alive, X-Hop-Marker\r\nX-Hop-Marker: hopmarker-custom\r\n"+
				"Keep-Alive: timeout=5, max=hopmarker-ka\r\nProxy-Authorization: Basic hopmarker-pa\r\n"+
				"Proxy-Connection: hopmarker-pc\r\nTE: trailers, hopmarker-te\r\nUpgrade: hopmarker-upgrade\r\n"+
				"Trailer: hopmarker-trailer\r\nCookie: session=hopmarker-cookie\r\n"+
				"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", tc.path, tc.auth, len(tc.body), tc.body)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			require.Equal(t, 200, resp.StatusCode, string(body))

			up, ok := px.fake.LastRequest()
			require.True(t, ok)
			assert.Equal(t, tc.keyValue, up.Header.Get(tc.keyHeader), "the provider key, in the provider's scheme")
			assert.Empty(t, up.Header.Get(tc.noHeader))
			for name, vals := range up.Header {
				for _, v := range vals {
					assert.NotContains(t, v, tok, "the client's token reached the upstream in %s", name)
					assert.NotContains(t, strings.ToLower(v), "hopmarker", "hop-by-hop header reached the upstream: %s: %s", name, v)
				}
				switch http.CanonicalHeaderKey(name) {
				case "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Te", "Upgrade", "Trailer", "X-Hop-Marker", "Cookie":
					t.Errorf("header %s reached the upstream", name)
				}
			}
			assert.NotContains(t, string(up.Body), tok)
		})
	}
}
