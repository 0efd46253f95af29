package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBypassStreamedOutput: an answer that carries a disguised secret is
// masked in the stream as it is in a whole body. The token's PII rule
// covers output only, so the secret reaches the fake, which echoes it
// back word by word.
func TestBypassStreamedOutput(t *testing.T) {
	t.Parallel()
	e := startBypass(t)
	var pol map[string]any
	require.NoError(t, json.Unmarshal([]byte(readPolicy(t, "contractor")), &pol))
	pii := pol["rules"].([]any)[0].(map[string]any)
	require.Equal(t, "pii", pii["type"])
	pii["scope"] = "output"
	raw, err := json.Marshal(map[string]any{"model_regex": "^(gpt-4o|claude)", "max_tokens": 1_000_000, "rules": []any{pii}})
	require.NoError(t, err)
	tok, _ := e.px.token(t, string(raw))

	cases := []struct{ name, path, text, leak, want string }{
		{"zero-width ssn, chat", "/v1/chat/completions", `ssn 123\u200b-45-6789 ok`, "6789", "[REDACTED:ssn]"},
		{"fullwidth ssn, chat", "/v1/chat/completions", `ssn １２３-４５-６７８９ ok`, "６７８９", "[REDACTED:ssn]"},
		{"ssn padded with zero-width characters, chat", "/v1/chat/completions",
			`ssn 1\u200b\u200b2\u200b\u200b3\u200b\u200b-\u200b\u200b4\u200b\u200b5\u200b\u200b-\u200b\u200b6\u200b\u200b7\u200b\u200b8\u200b\u200b9 ok`, "9 ok", "[REDACTED:ssn]"},
		{"zero-width email, messages", "/v1/messages", `mail bob\u200b@example.com ok`, "example.com", "[REDACTED:email]"},
	}
	for _, tc := range cases {
		for _, stream := range []bool{false, true} {
			name := tc.name
			if stream {
				name += ", streamed"
			}
			t.Run(name, func(t *testing.T) {
				model := "gpt-4o-mini"
				var hdr []string
				if tc.path == "/v1/messages" {
					model = "claude-sonnet-4-6"
					hdr = []string{"anthropic-version", "2023-06-01"}
				}
				body := `{"model":"` + model + `","max_tokens":200,"stream":` + map[bool]string{true: "true", false: "false"}[stream] +
					`,"messages":[{"role":"user","content":"` + tc.text + `"}]}`
				r := pxPost(t, e.px.url+tc.path, tok, body, hdr...)
				require.Equal(t, 200, r.status, string(r.body))
				got := clientText(t, r.body, stream)
				assert.NotContains(t, got, tc.leak, "the client read the secret")
				assert.Contains(t, got, tc.want)
			})
		}
	}
}

// clientText returns the generated text a client read: the content of a
// body, or the deltas of a stream joined.
func clientText(t *testing.T, body []byte, stream bool) string {
	t.Helper()
	if !stream {
		return upstreamTexts(t, body)
	}
	var b strings.Builder
	data, _ := pxSSE(body)
	for _, d := range data {
		if d == "[DONE]" {
			continue
		}
		var v any
		if json.Unmarshal([]byte(d), &v) != nil {
			continue
		}
		for _, p := range [][]any{{"choices", 0, "delta", "content"}, {"delta", "text"}} {
			b.WriteString(pxStr(v, p...))
		}
	}
	return b.String()
}
