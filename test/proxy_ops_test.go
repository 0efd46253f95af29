package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxyOpsEndpoints: the probes answer without a token, /metrics is
// Prometheus text that counts requests, /v1/models lists only what the
// token may use.
func TestProxyOpsEndpoints(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	gptOnly, _ := px.token(t, `{"model_regex":"^gpt-4o"}`)
	byProviders, _ := px.token(t, `{"providers":{"anthropic":[{"model":"claude-haiku-4-5"}],"openai":[{"model_regex":"^o[34]-mini$"}]}}`)

	t.Run("probes", func(t *testing.T) {
		cases := []struct {
			path, contains, ctype string
		}{
			{"/health", `"ok"`, "application/json"},
			{"/healthz", `"ok"`, "application/json"},
			{"/ready", `"ready"`, "application/json"},
			{"/readyz", `"ready"`, "application/json"},
			{"/ping", "pong", "text/plain"},
		}
		for _, tc := range cases {
			r := pxDo(t, "GET", px.url+tc.path, "")
			require.Equal(t, 200, r.status, tc.path)
			assert.Contains(t, string(r.body), tc.contains, tc.path)
			assert.Contains(t, r.header.Get("Content-Type"), tc.ctype, tc.path)
		}
		r := pxDo(t, "GET", px.url+"/ready", "")
		var ready struct{ Tokens int }
		require.NoError(t, json.Unmarshal(r.body, &ready))
		assert.Equal(t, 2, ready.Tokens)
	})

	t.Run("request id", func(t *testing.T) {
		r := pxPost(t, px.url+"/v1/chat/completions", gptOnly, pxChat("gpt-4o", "id please", false, ""), "X-Request-Id", "client-id-42")
		require.Equal(t, 200, r.status)
		assert.Equal(t, "client-id-42", r.header.Get("X-Request-Id"), "a sane client id is echoed")
		r = pxPost(t, px.url+"/v1/chat/completions", gptOnly, pxChat("gpt-4o", "id please", false, ""), "X-Request-Id", "bad id with spaces")
		assert.NotEqual(t, "bad id with spaces", r.header.Get("X-Request-Id"))
		assert.NotEmpty(t, r.header.Get("X-Request-Id"))
	})

	t.Run("metrics", func(t *testing.T) {
		require.Equal(t, 200, pxPost(t, px.url+"/v1/chat/completions", gptOnly, pxChat("gpt-4o", "count me", false, "")).status)
		require.Equal(t, 403, pxPost(t, px.url+"/v1/chat/completions", gptOnly, pxChat("o3-mini", "refuse me", false, "")).status)
		r := pxDo(t, "GET", px.url+"/metrics", "")
		require.Equal(t, 200, r.status)
		assert.Contains(t, r.header.Get("Content-Type"), "text/plain")
		text := string(r.body)
		assert.Contains(t, text, "# TYPE tokenomics_requests_total counter")
		assert.Regexp(t, regexp.MustCompile(`(?m)^tokenomics_requests_total\{[^}]*endpoint="chat"[^}]*code="200"[^}]*\} [1-9]`), text)
		assert.Regexp(t, regexp.MustCompile(`(?m)^tokenomics_requests_total\{[^}]*code="403"[^}]*\} [1-9]`), text)
		assert.Regexp(t, regexp.MustCompile(`(?m)^tokenomics_prompt_tokens_total\{[^}]*provider="openai"[^}]*\} [1-9]`), text)
		assert.NotContains(t, text, gptOnly, "no token in metrics")
	})

	t.Run("models", func(t *testing.T) {
		cases := []struct {
			name      string
			tok       string
			anthropic bool
			want      []string
		}{
			{"regex policy", gptOnly, false, []string{"gpt-4o", "gpt-4o-mini"}},
			{"provider entries", byProviders, false, []string{"claude-haiku-4-5", "o3-mini", "o4-mini"}},
			{"anthropic shape", byProviders, true, []string{"claude-haiku-4-5", "o3-mini", "o4-mini"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				hdr := []string{"Authorization", "Bearer " + tc.tok}
				if tc.anthropic {
					hdr = []string{"X-Api-Key", tc.tok, "Anthropic-Version", "2023-06-01"}
				}
				r := pxDo(t, "GET", px.url+"/v1/models", "", hdr...)
				require.Equal(t, 200, r.status, string(r.body))
				var out struct {
					Object  string `json:"object"`
					HasMore *bool  `json:"has_more"`
					Data    []struct {
						ID   string `json:"id"`
						Type string `json:"type"`
					} `json:"data"`
				}
				require.NoError(t, json.Unmarshal(r.body, &out), string(r.body))
				var got []string
				for _, m := range out.Data {
					got = append(got, m.ID)
				}
				sort.Strings(got)
				assert.Equal(t, tc.want, got)
				if tc.anthropic {
					require.NotNil(t, out.HasMore)
					assert.Equal(t, "model", out.Data[0].Type)
				} else {
					assert.Equal(t, "list", out.Object)
				}
			})
		}
	})
}

// TestProxyConversationMemory: with a memory block and a PII mask rule,
// each exchange (streamed or not) lands in the token's Markdown file, as
// masked as what the upstream saw: the e-mail address never appears.
func TestProxyConversationMemory(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	const email = "jane.doe@example.com"
	tok, _ := px.token(t, `{"max_tokens":100000,
		"rules":[{"name":"mask-mail","type":"pii","detect":["email"],"action":"mask","scope":"both"}],
		"memory":{"enabled":true,"file_path":"./memory","file_name":"{token_hash}.md"}}`)
	cases := []struct{ name, path, body, marker string }{
		{"chat", "/v1/chat/completions", pxChat("gpt-4o", "memo-chat write to "+email+" today", false, ""), "memo-chat"},
		{"chat stream", "/v1/chat/completions", pxChat("gpt-4o", "memo-stream write to "+email+" today", true, ""), "memo-stream"},
		{"messages", "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":100,"messages":[{"role":"user","content":"memo-messages write to ` + email + ` today"}]}`, "memo-messages"},
	}
	for _, tc := range cases {
		r := pxPost(t, px.url+tc.path, tok, tc.body)
		require.Equal(t, 200, r.status, "%s: %s", tc.name, r.body)
		assert.NotContains(t, string(r.body), email, "%s: the answer is masked", tc.name)
		up := pxFindRequest(t, px.fake, tc.marker)
		assert.NotContains(t, string(up.Body), email, "%s: the upstream gets the masked text", tc.name)
	}

	var file string
	var text string
	deadline := time.Now().Add(2 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(px.dir, "memory", "*.md"))
		if len(files) == 1 {
			b, err := os.ReadFile(files[0])
			require.NoError(t, err)
			file, text = files[0], string(b)
			if strings.Contains(text, "memo-chat") && strings.Contains(text, "memo-stream") && strings.Contains(text, "memo-messages") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("memory not written within 2s: files %v, text:\n%s", files, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("memory file %s:\n%s", filepath.Base(file), text)
	assert.NotContains(t, text, email, "the unmasked e-mail must never reach the memory file")
	assert.NotContains(t, text, "jane.doe")
	assert.NotContains(t, text, tok)
	for _, m := range []string{"memo-chat", "memo-stream", "memo-messages"} {
		assert.GreaterOrEqual(t, strings.Count(text, m), 2, "%s: request and answer are both recorded", m)
	}
	info, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

// TestProxyMemoryWithInputAndOutputMasks: when the input rules mask the
// request and the output rules mask the answer, memory still records the
// request as sent upstream. (The answer's mask must not reuse the buffer
// that holds the masked request: when that buffer has room (a pooled
// exchange, a large request) the answer overwrites the request and the
// request vanishes from the record.)
func TestProxyMemoryWithInputAndOutputMasks(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, hash := px.token(t, `{"max_tokens":100000,
		"rules":[{"name":"mail","type":"pii","detect":["email"],"action":"mask","scope":"input"},
			{"name":"secret","type":"regex","pattern":"secretword","action":"mask","scope":"output"}],
		"memory":{"enabled":true,"file_path":"./memory","file_name":"{token_hash}.md"}}`)
	cases := []struct{ name, system string }{
		{"request smaller than the answer", "Be brief."},
		{"request larger than the answer", strings.Repeat("Padding words for a long system prompt. ", 60)},
	}
	for i, tc := range cases {
		marker := "memo-mask" + string(rune('a'+i))
		body := `{"model":"gpt-4o","messages":[{"role":"system","content":"` + tc.system + `"},` +
			`{"role":"user","content":"` + marker + ` secretword to jane.doe@example.com now"}]}`
		r := pxPost(t, px.url+"/v1/chat/completions", tok, body)
		require.Equal(t, 200, r.status, string(r.body))
		assert.Equal(t, "Echo: "+marker+" [REDACTED:regex] to [REDACTED:email] now", pxReadChat(t, r.body).text, tc.name)
	}
	path := filepath.Join(px.dir, "memory", hash[:16]+".md")
	var text string
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(path)
		text = string(b)
		return err == nil && strings.Count(text, "**assistant:**") == 2
	}, 2*time.Second, 50*time.Millisecond, "memory not written: %s", text)
	assert.NotContains(t, text, "jane.doe")
	for i, tc := range cases {
		marker := "memo-mask" + string(rune('a'+i))
		assert.Contains(t, text, "> "+marker+" secretword to [REDACTED:email] now", "%s: the request as sent upstream is recorded:\n%s", tc.name, text)
		assert.Contains(t, text, "> Echo: "+marker+" [REDACTED:regex] to [REDACTED:email] now", "%s: the masked answer is recorded", tc.name)
	}
	assert.Contains(t, text, "Padding words for a long system prompt.", "the system prompt of the large request is recorded")
}
