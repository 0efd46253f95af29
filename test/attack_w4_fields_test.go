package test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fieldCase is a bypass case with a look at what the upstream got.
type fieldCase struct {
	bypassCase
	check func(t *testing.T, up map[string]any)
}

// upstreamBody returns the one upstream request carrying the case's marker,
// decoded.
func (e *bypassEnv) upstreamBody(t *testing.T, name string) map[string]any {
	t.Helper()
	marker := fmt.Sprintf("case-%x", fnv32(name))
	for _, req := range e.px.fake.Requests() {
		if strings.Contains(string(req.Body), marker) {
			var v map[string]any
			require.NoError(t, json.Unmarshal(req.Body, &v))
			return v
		}
	}
	t.Fatalf("no upstream request carries %s", marker)
	return nil
}

// dig follows a path of member names and array indexes.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "not an object at %v", p)
			v = m[k]
		case int:
			a, ok := v.([]any)
			require.True(t, ok && k < len(a), "not an array at %v", p)
			v = a[k]
		}
	}
	return v
}

// keys returns an object's member names.
func keys(t *testing.T, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "not an object: %v", v)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

var providerName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// TestAttackW4_FieldsChecked: the fields the content rules now read, on
// native and translated paths, and how a mask is written into each so the
// request stays one the provider accepts: a name keeps the identifier
// alphabet, a URL stays a URL, a text document is encoded again. Fields
// that cannot be read (an unknown data: URL type, raw base64 file data, a
// base64 source of a text type) are refused with 400 uncheckable_content.
func TestAttackW4_FieldsChecked(t *testing.T) {
	t.Parallel()
	e := startBypass(t)
	const chat, resp, msgs = "/v1/chat/completions", "/v1/responses", "/v1/messages"
	doc := base64.StdEncoding.EncodeToString([]byte("ssn " + ssn + "\n"))
	leak := func(name, path, body string, check func(*testing.T, map[string]any), leaks ...string) fieldCase {
		return fieldCase{bypassCase{name: name, path: path, body: body, leaks: leaks}, check}
	}
	refuse := func(name, path, body string) fieldCase {
		return fieldCase{bypassCase: bypassCase{name: name, path: path, body: body, refuse: 400, code: "uncheckable_content"}}
	}
	cases := []fieldCase{
		// Names keep the providers' identifier alphabet when masked.
		leak("chat tool and tool_choice names native", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":"MARKER"}],`+
			`"tools":[{"type":"function","function":{"name":"`+ssn+`","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"`+ssn+`"}}}`,
			func(t *testing.T, up map[string]any) {
				name := dig(t, up, "tools", 0, "function", "name").(string)
				assert.Regexp(t, providerName, name)
				assert.Equal(t, name, dig(t, up, "tool_choice", "function", "name"), "the choice still names the tool")
			}, ssn),
		leak("messages schema property name native", msgs, `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":"MARKER"}],`+
			`"tools":[{"name":"f","input_schema":{"type":"object","properties":{"`+email+`":{"type":"string"}},"required":["`+email+`"]}}]}`,
			func(t *testing.T, up map[string]any) {
				props := keys(t, dig(t, up, "tools", 0, "input_schema", "properties"))
				require.Len(t, props, 1)
				assert.Regexp(t, providerName, props[0], "Anthropic's property name pattern")
				assert.Equal(t, props[0], dig(t, up, "tools", 0, "input_schema", "required", 0), "required still names the property")
			}, email),
		leak("chat function name in assistant history native", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":"MARKER"},`+
			`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"`+ssn+`","arguments":"{}"}}]},`+
			`{"role":"tool","tool_call_id":"c1","content":"ok"}]}`, nil, ssn),
		leak("responses function_call name to claude", resp, `{"model":"claude-sonnet-4-6","input":[{"role":"user","content":"MARKER"},`+
			`{"type":"function_call","call_id":"c1","name":"`+ssn+`","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"ok"}]}`,
			nil, ssn),
		leak("messages tool_use name native", msgs, `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":"MARKER"},`+
			`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"`+ssn+`","input":{}}]},`+
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}`, nil, ssn),
		leak("chat participant name native", chat, `{"model":"gpt-4o","messages":[{"role":"user","name":"`+email+`","content":"MARKER"}]}`,
			func(t *testing.T, up map[string]any) {
				assert.Regexp(t, providerName, dig(t, up, "messages", 0, "name"))
			}, email),
		// URLs stay URLs.
		leak("responses input_image url native", resp, `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"MARKER"},`+
			`{"type":"input_image","image_url":"https://img.example.net/a.png?owner=`+email+`"}]}]}`,
			func(t *testing.T, up map[string]any) {
				u := dig(t, up, "input", 0, "content", 1, "image_url").(string)
				assert.True(t, strings.HasPrefix(u, "https://img.example.net/a.png?owner="), u)
				assert.NotContains(t, u, "[", "brackets are percent-encoded")
			}, email),
		leak("messages image url source native", msgs, `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"image","source":{"type":"url","url":"https://img.example.net/`+email+`.png"}}]}]}`, nil, email),
		leak("messages document url inside a tool result native", msgs, `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":"MARKER"},`+
			`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},`+
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"see"},{"type":"image","source":{"type":"url","url":"https://x.example/`+email+`"}}]}]}]}`,
			nil, email),
		leak("escaped data: scheme is still a data URL", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"file","file":{"filename":"a.txt","file_data":"d\u0061ta:text/plain;base64,`+doc+`"}}]}]}`,
			func(t *testing.T, up map[string]any) {
				data := dig(t, up, "messages", 0, "content", 1, "file", "file_data").(string)
				head, payload, ok := strings.Cut(data, ",")
				require.True(t, ok)
				assert.Equal(t, "data:text/plain;base64", head)
				text, err := base64.StdEncoding.DecodeString(payload)
				require.NoError(t, err, "the document is base64 again")
				assert.Equal(t, "ssn [REDACTED:ssn]\n", string(text))
			}, doc, ssn),
		leak("responses input_file text document native", resp, `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"MARKER"},`+
			`{"type":"input_file","filename":"notes.txt","file_data":"data:text/plain;base64,`+doc+`"}]}]}`, nil, doc, ssn),
		// Fields the provider stores or reads without rendering them.
		leak("chat stop, user and metadata native", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":"MARKER"}],`+
			`"stop":"`+ssn+`","user":"`+email+`","metadata":{"owner":"`+email+`","`+ssn+`":"x"}}`, nil, ssn, email),
		leak("messages stop_sequences and metadata native", msgs, `{"model":"claude-sonnet-4-6","max_tokens":20,"stop_sequences":["`+ssn+`"],`+
			`"metadata":{"user_id":"`+email+`"},"messages":[{"role":"user","content":"MARKER"}]}`, nil, ssn, email),
		leak("responses safety_identifier native", resp, `{"model":"gpt-4o","safety_identifier":"`+email+`","input":"MARKER"}`, nil, email),
		leak("completions stop native", "/v1/completions", `{"model":"gpt-3.5-turbo-instruct","prompt":"MARKER","stop":["`+ssn+`"]}`, nil, ssn),
		// Texts that were read before stay read (regression guard).
		leak("responses instructions to claude", resp, `{"model":"claude-sonnet-4-6","instructions":"ssn `+ssn+`","input":"MARKER"}`, nil, ssn),
		leak("responses function_call_output parts native", resp, `{"model":"gpt-4o","input":[{"role":"user","content":"MARKER"},`+
			`{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},`+
			`{"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"ssn `+ssn+`"}]}]}`, nil, ssn),
		leak("responses reasoning summary sent back native", resp, `{"model":"gpt-4o","input":[{"role":"user","content":"MARKER"},`+
			`{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"mail `+email+`"}]},{"role":"user","content":"go on"}]}`, nil, email),
		leak("messages system blocks with cache_control to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,`+
			`"system":[{"type":"text","text":"ssn `+ssn+`","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"MARKER"}]}`, nil, ssn),
		leak("messages nested tool_result blocks to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":"MARKER"},`+
			`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"q":"x"}}]},`+
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"a"},{"type":"text","text":"ssn `+ssn+`"}]}]}]}`, nil, ssn),
		// Content the rules cannot read is refused, not forwarded.
		refuse("chat image data URL of an unknown type", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"image_url","image_url":{"url":"data:image/x-`+ssn+`;base64,AAAA"}}]}]}`),
		refuse("chat file data that is not a data URL", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"file","file":{"filename":"a.txt","file_data":"`+doc+`"}}]}]}`),
		refuse("chat text data URL that is not base64", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"file","file":{"filename":"a.txt","file_data":"data:text/plain,`+ssn+`"}}]}]}`),
		refuse("chat text document with a malformed payload", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"file","file":{"filename":"a.txt","file_data":"data:text/plain;base64,@@@@"}}]}]}`),
		refuse("messages base64 document of a text type", msgs, `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"document","source":{"type":"base64","media_type":"text/plain","data":"`+doc+`"}}]}]}`),
		refuse("messages image base64 of an unknown type to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"image","source":{"type":"base64","media_type":"image/x-`+ssn+`","data":"AAAA"}}]}]}`),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e.run(t, tc.bypassCase)
			if tc.check != nil && !t.Failed() {
				tc.check(t, e.upstreamBody(t, tc.name))
			}
		})
	}
}

// TestAttackW4_ForwardedUnread: binary content the rules need not read
// still goes through with input rules on: a PNG data URL, a PDF file.
func TestAttackW4_ForwardedUnread(t *testing.T) {
	t.Parallel()
	e := startBypass(t)
	cases := []bypassCase{
		{name: "chat png data URL", path: "/v1/chat/completions", body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},` +
			`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}`},
		{name: "chat pdf file", path: "/v1/chat/completions", body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},` +
			`{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjQ="}}]}]}`},
		{name: "messages png data URL to claude", path: "/v1/chat/completions", body: `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},` +
			`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}`},
		{name: "messages pdf document native", path: "/v1/messages", body: `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},` +
			`{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQ="}}]}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e.run(t, tc)
		})
	}
}
