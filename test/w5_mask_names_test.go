package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// w5UniqueMembers fails when an object of doc repeats a member name or a
// schema's required entry names none of its properties.
func w5UniqueMembers(t *testing.T, doc []byte) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	var value func() any
	value = func() any {
		tok, err := dec.Token()
		require.NoError(t, err)
		switch tok {
		case json.Delim('{'):
			seen := map[string]any{}
			for dec.More() {
				k, err := dec.Token()
				require.NoError(t, err)
				_, dup := seen[k.(string)]
				require.False(t, dup, "the upstream got member %q twice in %s", k, doc)
				seen[k.(string)] = value()
			}
			_, _ = dec.Token()
			if props, ok := seen["properties"].(map[string]any); ok {
				req, _ := seen["required"].([]any)
				for _, r := range req {
					_, ok := props[r.(string)]
					assert.True(t, ok, "required %q names no property", r)
				}
			}
			return seen
		case json.Delim('['):
			var out []any
			for dec.More() {
				out = append(out, value())
			}
			_, _ = dec.Token()
			return out
		}
		return tok
	}
	value()
}

// TestW5MaskedNamesStayUnique runs the real binary: tool and output
// schemas whose property names each carry an SSN mask to one name; the
// upstream gets each property under its own name (the later ones with
// "_2", "_3"), the required list following them, on chat, responses and
// messages, native and translated; nothing of the numbers is forwarded.
func TestW5MaskedNamesStayUnique(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	pxNoRace(t, px.p)
	tok, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"pii-in","type":"pii","detect":["ssn"],"action":"mask","scope":"input"}]}`)
	schema := `{"type":"object","properties":{"id 123-45-6789":{"type":"string"},"id 234-56-7891":{"type":"string"},"id 111-22-3333":{"type":"object","properties":{"x 123-45-6789":{"type":"string"},"x 234-56-7891":{"type":"string"}},"required":["x 234-56-7891"]}},"required":["id 234-56-7891","id 123-45-6789","id 111-22-3333"]}`
	cases := []struct {
		name, path, body string
	}{
		{"chat tool", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"w5names-chat"}],"tools":[{"type":"function","function":{"name":"f","parameters":` + schema + `}}]}`},
		{"chat response_format", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"w5names-rf"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":` + schema + `}}}`},
		{"responses tool", "/v1/responses", `{"model":"gpt-4o","input":"w5names-resp","tools":[{"type":"function","name":"f","parameters":` + schema + `}]}`},
		{"messages tool", "/v1/messages", `{"model":"claude-3-5-sonnet-20241022","max_tokens":50,"messages":[{"role":"user","content":"w5names-msgs"}],"tools":[{"name":"f","input_schema":` + schema + `}]}`},
		{"messages to gpt-4o", "/v1/messages", `{"model":"gpt-4o","max_tokens":50,"messages":[{"role":"user","content":"w5names-tr"}],"tools":[{"name":"f","input_schema":` + schema + `}]}`},
	}
	tools := []struct {
		name, path, body string
	}{
		{"chat tool names", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"w5tools-chat"}],"tools":[{"type":"function","function":{"name":"f-123-45-6789","parameters":{"type":"object"}}},{"type":"function","function":{"name":"f-234-56-7891","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f-234-56-7891"}}}`},
		{"messages tool names", "/v1/messages", `{"model":"claude-3-5-sonnet-20241022","max_tokens":50,"messages":[{"role":"user","content":"w5tools-msgs"}],"tools":[{"name":"f-123-45-6789","input_schema":{"type":"object"}},{"name":"f-234-56-7891","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"f-234-56-7891"}}`},
	}
	for _, tc := range tools {
		r := pxPost(t, px.url+tc.path, tok, tc.body, "anthropic-version", "2023-06-01")
		require.Equal(t, 200, r.status, "%s: %s", tc.name, r.body)
		marker := tc.body[strings.Index(tc.body, "w5tools-"):]
		marker = marker[:strings.IndexByte(marker, '"')]
		var up string
		for _, req := range px.fake.Requests() {
			if strings.Contains(string(req.Body), marker) {
				up = string(req.Body)
			}
		}
		require.NotEmpty(t, up, "%s: no upstream request", tc.name)
		assert.NotContains(t, up, "6789", tc.name)
		assert.Equal(t, 1, strings.Count(up, `"name":"f-_REDACTED_ssn_"`), "%s: %s", tc.name, up)
		assert.Equal(t, 2, strings.Count(up, `"name":"f-_REDACTED_ssn__2"`), "%s: the second tool and the choice naming it: %s", tc.name, up)
	}
	for _, tc := range cases {
		r := pxPost(t, px.url+tc.path, tok, tc.body, "anthropic-version", "2023-06-01")
		require.Equal(t, 200, r.status, "%s: %s", tc.name, r.body)
		marker := tc.body[strings.Index(tc.body, "w5names-"):]
		marker = marker[:strings.IndexByte(marker, '"')]
		var up []byte
		for _, req := range px.fake.Requests() {
			if strings.Contains(string(req.Body), marker) {
				up = req.Body
			}
		}
		require.NotNil(t, up, "%s: no upstream request", tc.name)
		w5UniqueMembers(t, up)
		assert.NotContains(t, string(up), "6789", tc.name)
		assert.NotContains(t, string(up), "7891", tc.name)
		assert.Contains(t, string(up), `"id__REDACTED_ssn__3"`, tc.name)
		assert.Contains(t, string(up), `"x__REDACTED_ssn__2"`, tc.name)
	}
}
