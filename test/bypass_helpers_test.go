package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// bypassEnv is a proxy in front of a fake upstream in FoldKeys mode (it
// decodes like a lax server and records variant member names), with a
// token holding the seed's contractor rules.
type bypassEnv struct {
	px  *pxEnv
	tok string
}

// startBypass starts the proxy and creates a token whose policy is the
// seed's contractor policy with the model list widened to every endpoint
// and the rate limits and memory left out, so the corpus is judged by the
// contractor's content rules alone.
func startBypass(t *testing.T) *bypassEnv {
	t.Helper()
	fake := startFake(t, fakeupstream.Options{FoldKeys: true, RecordLimit: 4096})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	px := &pxEnv{fake: fake, p: p, dir: dir, env: env, url: p.URL}

	var pol map[string]any
	require.NoError(t, json.Unmarshal([]byte(readPolicy(t, "contractor")), &pol))
	rules := pol["rules"]
	require.Len(t, rules, 3)
	pol = map[string]any{
		"model_regex": "^(gpt-4o|claude|text-embedding|gpt-3.5|o4-mini)",
		"max_tokens":  10_000_000,
		"rules":       rules,
	}
	raw, err := json.Marshal(pol)
	require.NoError(t, err)
	tok, _ := px.token(t, string(raw))
	t.Cleanup(func() {
		if v := fake.VariantKeys(); len(v) > 0 {
			t.Errorf("the upstream received variant member names: %q", v)
		}
		if t.Failed() {
			t.Logf("proxy log:\n%s", p.Logs())
		}
	})
	return &bypassEnv{px: px, tok: tok}
}

// bypassCase is one attack: a body sent to path, and either refused or
// forwarded with none of leaks readable by the upstream.
type bypassCase struct {
	name   string
	path   string
	body   string
	refuse int      // expected status when the request must be refused; 0 = forwarded
	code   string   // expected error code of a refusal, when it matters
	leaks  []string // texts the upstream must not read (after JSON decoding)
	masked bool     // the forwarded body must carry a [REDACTED:...] mask
}

// internals are words that betray plugin or runtime internals.
var internals = []string{"wasm", "wazero", "panic", "goroutine", "runtime error", ".go:", "stack"}

func (e *bypassEnv) run(t *testing.T, tc bypassCase) {
	t.Helper()
	marker := fmt.Sprintf("case-%x", fnv32(tc.name))
	body := strings.ReplaceAll(tc.body, "MARKER", marker)
	require.Contains(t, body, marker, "the case body must carry MARKER")
	hdr := []string{}
	if tc.path == "/v1/messages" {
		hdr = append(hdr, "anthropic-version", "2023-06-01")
	}
	r := pxPost(t, e.px.url+tc.path, e.tok, body, hdr...)
	low := strings.ToLower(string(r.body))
	for _, w := range internals {
		assert.NotContains(t, low, w, "the client's answer carries internals: %s", r.body)
	}
	var sent []fakeupstream.Request
	for _, req := range e.px.fake.Requests() {
		if strings.Contains(string(req.Body), marker) {
			sent = append(sent, req)
		}
	}
	if tc.refuse != 0 {
		assert.Equal(t, tc.refuse, r.status, "must be refused: %s", r.body)
		assert.Empty(t, sent, "a refused request reached the upstream")
		if tc.code != "" {
			assert.Contains(t, string(r.body), `"`+tc.code+`"`, "error code")
		}
		if tc.path == "/v1/messages" {
			assert.Contains(t, string(r.body), `"type":"error"`, "Anthropic error shape")
		} else {
			assert.Contains(t, string(r.body), `"error":{`, "OpenAI error shape")
		}
		return
	}
	require.Equal(t, 200, r.status, "must be forwarded: %s", r.body)
	require.Len(t, sent, 1, "one upstream request")
	up := sent[0].Body
	texts := upstreamTexts(t, up)
	for _, leak := range tc.leaks {
		assert.NotContains(t, texts, leak, "the upstream read a secret")
		assert.NotContains(t, string(up), leak, "the upstream body holds a secret")
	}
	if tc.masked {
		assert.Contains(t, texts, "[REDACTED:", "the forwarded body is masked")
	}
	assertArgumentsJSON(t, up)
}

// assertArgumentsJSON checks that every tool-call "arguments" string that
// holds a JSON object is still valid JSON after masking.
func assertArgumentsJSON(t *testing.T, body []byte) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v))
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "arguments" && strings.HasPrefix(strings.TrimSpace(s), "{") {
					assert.True(t, json.Valid([]byte(s)), "masked arguments are not valid JSON: %s", s)
				}
				walk(e)
			}
		}
	}
	walk(v)
}

// upstreamTexts returns every string of a body, decoded, with strings that
// hold JSON (tool arguments) decoded once more, joined by newlines.
func upstreamTexts(t *testing.T, body []byte) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v), "the upstream got invalid JSON: %s", body)
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x)
			b.WriteByte('\n')
			var inner any
			if strings.HasPrefix(strings.TrimSpace(x), "{") && json.Unmarshal([]byte(x), &inner) == nil {
				walk(inner)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				b.WriteString(k)
				b.WriteByte('\n')
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
