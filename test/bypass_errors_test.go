package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestBypassUpstreamErrorBodies: a provider that quotes the request back
// in its error answer is output like any other; the contractor's rules mask
// or withhold it, streamed or not, in the client's format.
func TestBypassUpstreamErrorBodies(t *testing.T) {
	t.Parallel()
	e := startBypass(t)
	fake := e.px.fake
	cases := []struct {
		name, path, model, body, errBody string
		stream                           bool
		want, not                        string
	}{
		{name: "openai error quoting an ssn", path: "/v1/chat/completions", model: "gpt-4o-mini",
			errBody: `{"error":{"message":"Invalid value: 'ssn 123-45-6789'","type":"invalid_request_error","param":"messages","code":null}}`,
			want:    "[REDACTED:ssn]", not: "123-45-6789"},
		{name: "openai error quoting an ssn, streamed", path: "/v1/chat/completions", model: "gpt-4o-mini", stream: true,
			errBody: `{"error":{"message":"Invalid value: 'ssn 123-45-6789'","type":"invalid_request_error","param":null,"code":null}}`,
			want:    "[REDACTED:ssn]", not: "123-45-6789"},
		{name: "anthropic error quoting an email", path: "/v1/messages", model: "claude-sonnet-4-6",
			errBody: `{"type":"error","error":{"type":"invalid_request_error","message":"bad field bob@example.com"}}`,
			want:    "[REDACTED:email]", not: "bob@example.com"},
		{name: "error quoting a disguised email in a nested field", path: "/v1/chat/completions", model: "gpt-4o-mini",
			errBody: `{"error":{"message":"see details","type":"invalid_request_error","param":null,"code":null,"details":[{"value":"bob\u200b@example.com"}]}}`,
			want:    "[REDACTED:email]", not: "example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, fake.Script(fakeupstream.Scripted{Model: tc.model, Status: 400, Body: tc.errBody}))
			body := `{"model":"` + tc.model + `","max_tokens":20,"messages":[{"role":"user","content":"hello"}]`
			if tc.stream {
				body += `,"stream":true`
			}
			body += "}"
			var hdr []string
			if tc.path == "/v1/messages" {
				hdr = []string{"anthropic-version", "2023-06-01"}
			}
			r := pxPost(t, e.px.url+tc.path, e.tok, body, hdr...)
			assert.Equal(t, 400, r.status, string(r.body))
			assert.Contains(t, string(r.body), tc.want)
			assert.NotContains(t, string(r.body), tc.not)
			for _, w := range internals {
				assert.NotContains(t, strings.ToLower(string(r.body)), w)
			}
			if tc.path == "/v1/messages" {
				assert.Contains(t, string(r.body), `"type":"error"`)
			}
		})
	}
}
