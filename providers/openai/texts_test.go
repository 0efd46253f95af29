package openai_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// text is a decoded TextRef, for comparisons.
type text struct {
	Text, Role, Kind string
	Index, Part      int
}

func decodeAll(t testing.TB, body []byte, refs []providers.TextRef) []text {
	t.Helper()
	out := make([]text, 0, len(refs))
	for _, r := range refs {
		require.True(t, r.Start >= 0 && r.End <= len(body) && r.Start < r.End, "ref %+v out of body", r)
		b, err := providers.DecodeText(nil, body, r)
		require.NoError(t, err)
		out = append(out, text{string(b), r.Role, r.Kind, r.Index, r.Part})
	}
	return out
}

func TestRequestTexts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		endpoint openai.Endpoint
		body     string
		want     []text
	}{
		{
			name:     "chat tool and format definitions",
			endpoint: openai.Chat,
			body: `{"model":"m","messages":[],"tools":[{"type":"function","function":{"name":"f","description":"d1",` +
				`"parameters":{"type":"object","properties":{"a":{"type":"string","description":"d2","enum":["e1"]}}}}}],` +
				`"response_format":{"type":"json_schema","json_schema":{"name":"n","description":"d3","schema":{"description":"d4"}}},` +
				`"prediction":{"type":"content","content":"p1"}}`,
			want: []text{
				{"d1", "system", providers.TextToolDef, -1, 0},
				{"object", "system", providers.TextToolDef, -1, 0},
				{"string", "system", providers.TextToolDef, -1, 0},
				{"d2", "system", providers.TextToolDef, -1, 0},
				{"e1", "system", providers.TextToolDef, -1, 0},
				{"d3", "system", providers.TextToolDef, -1, -1},
				{"d4", "system", providers.TextToolDef, -1, -1},
				{"p1", "assistant", providers.TextMessage, -1, -1},
				// fields: names, schema member names
				{"f", "system", providers.TextToolDef, -1, 0},
				{"a", "system", providers.TextToolDef, -1, 0}, // schema keywords are left out
				{"n", "system", providers.TextToolDef, -1, -1},
			},
		},
		{
			name:     "text and refusal in one part",
			endpoint: openai.Chat,
			body:     `{"messages":[{"role":"assistant","content":[{"type":"text","refusal":"r","text":"t"}],"refusal":"r2"}]}`,
			want: []text{
				{"r", "assistant", providers.TextMessage, 0, 0}, // body order
				{"t", "assistant", providers.TextMessage, 0, 0},
				{"r2", "assistant", providers.TextMessage, 0, -1},
			},
		},
		{
			name:     "responses tools, text format, prompt variables, reasoning summary",
			endpoint: openai.Responses,
			body: `{"model":"m","tools":[{"type":"function","name":"f","description":"d1","parameters":{"x":"d2"}}],` +
				`"text":{"format":{"type":"json_schema","description":"d3","schema":{"y":"d4"}}},` +
				`"prompt":{"id":"p","variables":{"v":"secret"}},` +
				`"input":[{"type":"reasoning","summary":[{"type":"summary_text","text":"s1"}],"content":[{"type":"input_text","text":"s2"}]}]}`,
			want: []text{
				{"d1", "system", providers.TextToolDef, -1, 0},
				{"d2", "system", providers.TextToolDef, -1, 0},
				{"d3", "system", providers.TextToolDef, -1, -1},
				{"d4", "system", providers.TextToolDef, -1, -1},
				{"id", "user", providers.TextInput, -1, -1},
				{"p", "user", providers.TextInput, -1, -1},
				{"variables", "user", providers.TextInput, -1, -1},
				{"v", "user", providers.TextInput, -1, -1},
				{"secret", "user", providers.TextInput, -1, -1},
				{"s1", "assistant", providers.TextReasoning, 0, 0},
				{"s2", "assistant", providers.TextReasoning, 0, 0},
				{"f", "system", providers.TextToolDef, -1, 0},
				{"x", "system", providers.TextToolDef, -1, 0},
				{"y", "system", providers.TextToolDef, -1, -1},
			},
		},
		{
			name:     "chat messages of every role",
			endpoint: openai.Chat,
			body: `{"model":"gpt-4o","messages":[
				{"role":"system","content":"Be \"terse\".\nAlways."},
				{"content":"caf\u00e9 \ud83d\ude00","role":"user"},
				{"role":"developer","content":[{"type":"text","text":"dev rule"}]},
				{"role":"user","content":[{"type":"text","text":"look:"},{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"text","text":"nested [\"arr\"]"}]},
				{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get","arguments":"{\"q\":\"ssn 078-05-1120\"}"}},{"id":"c2","type":"function","function":{"arguments":"{}","name":"h"}}]},
				{"role":"tool","tool_call_id":"c1","content":"result \\ ok"},
				{"role":"assistant","content":[{"type":"refusal","refusal":"no"}],"function_call":{"name":"old","arguments":"{\"a\":1}"}}
			]}`,
			want: []text{
				{"Be \"terse\".\nAlways.", "system", providers.TextSystem, 0, -1},
				{"café 😀", "user", providers.TextMessage, 1, -1},
				{"dev rule", "developer", providers.TextSystem, 2, 0},
				{"look:", "user", providers.TextMessage, 3, 0},
				{"nested [\"arr\"]", "user", providers.TextMessage, 3, 2},
				{`{"q":"ssn 078-05-1120"}`, "assistant", providers.TextToolArgs, 4, 0},
				{`{}`, "assistant", providers.TextToolArgs, 4, 1},
				{`result \ ok`, "tool", providers.TextMessage, 5, -1},
				{"no", "assistant", providers.TextMessage, 6, 0},
				{`{"a":1}`, "assistant", providers.TextToolArgs, 6, -1},
				{"https://x/y.png", "user", providers.TextMessage, 3, 1},
				{"get", "assistant", providers.TextToolArgs, 4, 0},
				{"h", "assistant", providers.TextToolArgs, 4, 1},
				{"old", "assistant", providers.TextToolArgs, 6, -1},
			},
		},
		{
			name:     "completions prompt string and suffix",
			endpoint: openai.Completions,
			body:     `{"model":"m","prompt":"def f():","suffix":"return 1"}`,
			want: []text{
				{"def f():", "user", providers.TextPrompt, -1, -1},
				{"return 1", "suffix", providers.TextPrompt, -1, -1},
			},
		},
		{
			name:     "completions prompt array with token ids",
			endpoint: openai.Completions,
			body:     `{"model":"m","prompt":["a",[1,2],"b",3]}`,
			want: []text{
				{"a", "user", providers.TextPrompt, -1, 0},
				{"b", "user", providers.TextPrompt, -1, 2},
			},
		},
		{
			name:     "embeddings array",
			endpoint: openai.Embeddings,
			body:     `{"input":["first","sec\u006fnd"],"model":"m"}`,
			want: []text{
				{"first", "user", providers.TextInput, -1, 0},
				{"second", "user", providers.TextInput, -1, 1},
			},
		},
		{
			name:     "embeddings tokens only",
			endpoint: openai.Embeddings,
			body:     `{"input":[1,2,3],"model":"m"}`,
		},
		{
			name:     "responses string input and instructions",
			endpoint: openai.Responses,
			body:     `{"model":"m","input":"hello","instructions":"be kind"}`,
			want: []text{
				{"hello", "user", providers.TextInput, -1, -1},
				{"be kind", "system", providers.TextSystem, -1, -1},
			},
		},
		{
			name:     "responses items",
			endpoint: openai.Responses,
			body: `{"model":"m","input":[
				{"role":"developer","content":"rules"},
				{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"},{"type":"input_image","image_url":"https://x"}]},
				{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"thinking"}]},
				{"type":"message","role":"assistant","content":[{"type":"output_text","text":"prior answer"}]},
				{"type":"function_call","call_id":"c","name":"f","arguments":"{\"x\":1}"},
				{"type":"function_call_output","call_id":"c","output":"42"},
				{"content":"no role means user"}
			]}`,
			want: []text{
				{"rules", "developer", providers.TextSystem, 0, -1},
				{"hi", "user", providers.TextMessage, 1, 0},
				{"thinking", "assistant", providers.TextReasoning, 2, 0},
				{"prior answer", "assistant", providers.TextMessage, 3, 0},
				{`{"x":1}`, "assistant", providers.TextToolArgs, 4, -1},
				{"42", "tool", providers.TextMessage, 5, -1},
				{"no role means user", "user", providers.TextMessage, 6, -1},
				{"https://x", "user", providers.TextMessage, 1, 1},
				{"f", "assistant", providers.TextToolArgs, 4, -1},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tc.body)
			refs, err := openai.RequestTexts(nil, body, tc.endpoint)
			require.NoError(t, err)
			got := decodeAll(t, body, refs)
			if len(tc.want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRequestTextsAppends(t *testing.T) {
	t.Parallel()
	body := []byte(`{"messages":[{"role":"user","content":"x"}]}`)
	dst := make([]providers.TextRef, 1, 8)
	refs, err := openai.RequestTexts(dst, body, openai.Chat)
	require.NoError(t, err)
	require.Len(t, refs, 2)
	assert.Equal(t, providers.TextRef{}, refs[0], "existing elements are kept")
}

func TestRequestTextsErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		err  error
	}{
		{"malformed", `{"messages":[{"role":"user","content":"x}]}`, providers.ErrSyntax},
		{"duplicate messages", `{"messages":[],"messages":[{"role":"user","content":"hidden"}]}`, providers.ErrDupField},
		{"message not an object", `{"messages":["hi"]}`, providers.ErrType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := openai.RequestTexts(nil, []byte(tc.body), openai.Chat)
			assert.ErrorIs(t, err, tc.err)
		})
	}
}

func TestResponseTexts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		endpoint openai.Endpoint
		body     string
		want     []text
	}{
		{
			name:     "chat",
			endpoint: openai.Chat,
			body: `{"id":"x","choices":[
				{"index":0,"message":{"role":"assistant","content":"Hello \u00e9","reasoning_content":"hmm"},"finish_reason":"stop"},
				{"index":1,"message":{"role":"assistant","content":null,"refusal":"I can't","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":\"b\"}"}}]}}
			],"usage":{"prompt_tokens":1}}`,
			want: []text{
				{"Hello é", "assistant", providers.TextCompletion, 0, -1},
				{"hmm", "assistant", providers.TextReasoning, 0, -1},
				{"I can't", "assistant", providers.TextCompletion, 1, -1},
				{`{"a":"b"}`, "assistant", providers.TextToolArgs, 1, 0},
			},
		},
		{
			name:     "chat annotations",
			endpoint: openai.Chat,
			body: `{"choices":[{"index":0,"message":{"role":"assistant","content":"See [1].","annotations":[
				{"type":"url_citation","url_citation":{"url":"https://a.example/x","title":"About x","start_index":4,"end_index":7}}]}}]}`,
			want: []text{
				{"See [1].", "assistant", providers.TextCompletion, 0, -1},
				{"https://a.example/x", "assistant", providers.TextToolArgs, 0, -2},
				{"About x", "assistant", providers.TextToolArgs, 0, -3},
			},
		},
		{
			name:     "responses hosted tools",
			endpoint: openai.Responses,
			body: `{"output":[
				{"id":"ws","type":"web_search_call","status":"completed","action":{"type":"search","query":"q","sources":[{"type":"url","url":"https://s"}]}},
				{"id":"ig","type":"image_generation_call","status":"completed","result":"iVBORw0KGgo=","revised_prompt":"rp"},
				{"id":"m","type":"message","role":"assistant","content":[{"type":"output_text","text":"T","annotations":[{"type":"url_citation","url":"https://c","title":"Ct"}]}]}
			]}`,
			want: []text{
				{"q", "assistant", providers.TextToolArgs, 0, -2},
				{"https://s", "assistant", providers.TextToolArgs, 0, -3},
				{"rp", "assistant", providers.TextToolArgs, 1, -2},
				{"https://c", "assistant", providers.TextToolArgs, 2, -2 - 1<<12},
				{"Ct", "assistant", providers.TextToolArgs, 2, -3 - 1<<12},
				{"T", "assistant", providers.TextCompletion, 2, 0},
			},
		},
		{
			name:     "completions",
			endpoint: openai.Completions,
			body:     `{"choices":[{"text":" world","index":0},{"text":"!","index":1}]}`,
			want: []text{
				{" world", "assistant", providers.TextCompletion, 0, -1},
				{"!", "assistant", providers.TextCompletion, 1, -1},
			},
		},
		{
			name:     "responses",
			endpoint: openai.Responses,
			body: `{"id":"resp","output":[
				{"type":"reasoning","summary":[{"type":"summary_text","text":"plan"}]},
				{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Answer","annotations":[]},{"type":"refusal","refusal":"partly no"}]},
				{"type":"function_call","name":"f","arguments":"{}","call_id":"c"}
			],"usage":{"input_tokens":3}}`,
			want: []text{
				{"plan", "assistant", providers.TextReasoning, 0, 0},
				{"Answer", "assistant", providers.TextCompletion, 1, 0},
				{"partly no", "assistant", providers.TextCompletion, 1, 1},
				{"{}", "assistant", providers.TextToolArgs, 2, -1},
			},
		},
		{
			name:     "embeddings have none",
			endpoint: openai.Embeddings,
			body:     `{"data":[{"embedding":[0.1,0.2]}],"usage":{"prompt_tokens":2,"total_tokens":2}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tc.body)
			refs, err := openai.ResponseTexts(nil, body, tc.endpoint)
			require.NoError(t, err)
			got := decodeAll(t, body, refs)
			if len(tc.want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzRequestTexts checks that RequestTexts never panics and that every
// ref lies inside the body and decodes.
func FuzzRequestTexts(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a\"b"}]},{"role":"assistant","tool_calls":[{"function":{"arguments":"{}"}}]}]}`), uint8(1))
	f.Add([]byte(`{"prompt":["x",[1,2]],"suffix":"s"}`), uint8(2))
	f.Add([]byte(`{"input":["x","y"]}`), uint8(3))
	f.Add([]byte(`{"input":[{"role":"user","content":"x"},{"type":"function_call_output","output":[{"type":"input_text","text":"o"}]}],"instructions":"i"}`), uint8(4))
	f.Add([]byte(`{"messages":[{"role":"user","name":"n","content":[{"type":"image_url","image_url":{"url":"https://x"}},{"type":"file","file":{"filename":"a","file_data":"data:text/plain;base64,aGk="}}]}],`+
		`"tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"p":{}},"required":["p"]}}}],"tool_choice":{"type":"function","function":{"name":"f"}},"stop":["s"],"metadata":{"k":"v"}}`), uint8(0))
	f.Fuzz(func(t *testing.T, body []byte, ep uint8) {
		endpoint := openai.Endpoint(ep%4 + 1)
		refs, err := openai.RequestTexts(nil, body, endpoint)
		if err != nil {
			return
		}
		edits := make([]providers.Edit, 0, len(refs))
		for i, r := range refs {
			require.True(t, r.Start >= 0 && r.End <= len(body) && r.Start+2 <= r.End, "ref %+v", r)
			if i > 0 && (r.Form == providers.FormText) == (refs[i-1].Form == providers.FormText) {
				require.Greater(t, r.Start, refs[i-1].Start, "refs out of order")
			}
			_, err := providers.DecodeText(nil, body, r)
			if r.Form == providers.FormData && errors.Is(err, providers.ErrUncheckable) {
				return // a malformed document: the proxy refuses it
			}
			require.NoError(t, err)
			edits = append(edits, providers.Edit{Ref: r, Text: []byte("[M] é")})
		}
		// Masking every text and field keeps a request the walker reads.
		masked, err := providers.Splice(nil, body, edits)
		require.NoError(t, err)
		_, err = openai.RequestTexts(nil, masked, endpoint)
		require.NoError(t, err, "masked body: %s", masked)
		_, _ = openai.ParseRequest(body, endpoint)
		_, _ = openai.ResponseTexts(nil, body, endpoint)
		out, err := openai.RewriteRequest(nil, body, endpoint, openai.Rewrite{
			Model: "x", Prepend: []providers.Message{{Role: "system", Content: "p"}, {Role: "user", Content: "u"}},
			IncludeUsage: true, DefaultMaxTokens: 9,
		})
		if err == nil {
			require.True(t, json.Valid(out), "rewrite produced invalid JSON: %s", out)
			_, err = openai.ParseRequest(out, endpoint)
			require.NoError(t, err, "rewrite output does not parse: %s", out)
		}
	})
}
