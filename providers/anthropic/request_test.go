package anthropic_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
)

type text struct {
	Text, Role, Kind string
	Index, Part      int
}

func decodeAll(t testing.TB, body []byte, refs []providers.TextRef) []text {
	t.Helper()
	out := make([]text, 0, len(refs))
	for _, r := range refs {
		b, err := providers.DecodeText(nil, body, r)
		require.NoError(t, err)
		out = append(out, text{string(b), r.Role, r.Kind, r.Index, r.Part})
	}
	return out
}

func TestParseRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		want anthropic.Request
		err  error
	}{
		{
			name: "basic",
			body: `{"model":"claude-sonnet-4-6","max_tokens":1024,"messages":[{"role":"user","content":"Hello"}]}`,
			want: anthropic.Request{Model: "claude-sonnet-4-6", MaxTokens: 1024, Messages: 1},
		},
		{
			name: "stream with system",
			body: `{"stream":true,"system":[{"type":"text","text":"Be brief","cache_control":{"type":"ephemeral"}}],"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`,
			want: anthropic.Request{Model: "claude-haiku-4-5", Stream: true, MaxTokens: 10, Messages: 2},
		},
		{
			name: "no max_tokens",
			body: `{"model":"m","messages":[]}`,
			want: anthropic.Request{Model: "m"},
		},
		{name: "duplicate max_tokens", body: `{"max_tokens":1,"max_tokens":100000}`, err: providers.ErrDupField},
		{name: "duplicate system", body: `{"system":"a","system":"b"}`, err: providers.ErrDupField},
		{name: "upper-case model", body: `{"model":"a","Model":"b","max_tokens":1}`, err: providers.ErrVariantKey},
		{name: "Kelvin max_tokens", body: "{\"model\":\"a\",\"max_to\u212Aens\":1}", err: providers.ErrVariantKey},
		{name: "escaped system", body: `{"model":"a","syst\u0065m":"x"}`, err: providers.ErrVariantKey},
		{name: "mixed case block text", body: `{"model":"a","messages":[{"role":"user","content":[{"type":"text","Text":"x"}]}]}`, err: providers.ErrVariantKey},
		{name: "duplicate block text", body: `{"model":"a","messages":[{"role":"user","content":[{"type":"text","text":"x","text":"y"}]}]}`, err: providers.ErrDupField},
		{name: "negative", body: `{"max_tokens":-5}`, err: anthropic.ErrNegative},
		{name: "system wrong type", body: `{"system":5}`, err: providers.ErrType},
		{name: "malformed", body: `{"model":"m"`, err: providers.ErrSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := anthropic.ParseRequest([]byte(tc.body))
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Positive(t, got.PromptEstimate)
			assert.Positive(t, got.PromptBound)
			got.PromptEstimate, got.PromptBound = 0, 0
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want.MaxTokens, got.OutputCap())
		})
	}
}

func TestParseRequestEstimateScaled(t *testing.T) {
	t.Parallel()
	msg := "Explain the difference between a mutex and a semaphore."
	body := []byte(`{"model":"m","max_tokens":5,"system":"Be precise.","messages":[{"role":"user","content":"` + msg + `"}]}`)
	got, err := anthropic.ParseRequest(body)
	require.NoError(t, err)
	texts := providers.EstimateTokens([]byte(msg)) + providers.EstimateTokens([]byte("Be precise."))
	want := providers.AdjustEstimate(providers.EstimateRequest(texts, 2), providers.Anthropic)
	assert.Equal(t, want, got.PromptEstimate)
}

func TestRequestTexts(t *testing.T) {
	t.Parallel()
	body := []byte(`{"model":"claude-sonnet-4-6","max_tokens":100,
		"system":[{"type":"text","text":"Policy \"A\""},{"type":"text","text":"Policy B"}],
		"messages":[
			{"role":"user","content":"caf\u00e9 \ud83d\ude00\nline"},
			{"role":"assistant","content":[
				{"type":"thinking","thinking":"secret plan","signature":"sig"},
				{"type":"text","text":"Let me look."},
				{"type":"tool_use","id":"toolu_1","name":"search","input":{"query":"ssn 078-05-1120","filters":{"tags":["a","b\"c"],"limit":5,"exact":true}}}
			]},
			{"content":[
				{"type":"tool_result","tool_use_id":"toolu_1","content":"found \\ 3"},
				{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"block result"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
				{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo"}},
				{"type":"document","source":{"type":"text","media_type":"text/plain","data":"doc body"}},
				{"type":"text","text":"thanks"}
			],"role":"user"}
		]}`)
	refs, err := anthropic.RequestTexts(nil, body)
	require.NoError(t, err)
	want := []text{
		{`Policy "A"`, "system", providers.TextSystem, -1, 0},
		{"Policy B", "system", providers.TextSystem, -1, 1},
		{"café 😀\nline", "user", providers.TextMessage, 0, -1},
		{"Let me look.", "assistant", providers.TextMessage, 1, 1},
		{"query", "assistant", providers.TextToolArgs, 1, 2},
		{"ssn 078-05-1120", "assistant", providers.TextToolArgs, 1, 2},
		{"filters", "assistant", providers.TextToolArgs, 1, 2},
		{"tags", "assistant", providers.TextToolArgs, 1, 2},
		{"a", "assistant", providers.TextToolArgs, 1, 2},
		{`b"c`, "assistant", providers.TextToolArgs, 1, 2},
		{"limit", "assistant", providers.TextToolArgs, 1, 2},
		{"exact", "assistant", providers.TextToolArgs, 1, 2},
		{`found \ 3`, "tool", providers.TextMessage, 2, -1},
		{"block result", "tool", providers.TextMessage, 2, 0},
		{"doc body", "user", providers.TextMessage, 2, 3},
		{"thanks", "user", providers.TextMessage, 2, 4},
		{"search", "assistant", providers.TextToolArgs, 1, 2}, // fields last: the tool's name
	}
	assert.Equal(t, want, decodeAll(t, body, refs))
}

func TestRequestTextsSystemString(t *testing.T) {
	t.Parallel()
	body := []byte(`{"system":"Only \u0041PIs","messages":[]}`)
	refs, err := anthropic.RequestTexts(nil, body)
	require.NoError(t, err)
	assert.Equal(t, []text{{"Only APIs", "system", providers.TextSystem, -1, -1}}, decodeAll(t, body, refs))
}

// FuzzRequestTexts checks that the Anthropic request readers never panic
// and that refs lie inside the body and decode.
func FuzzRequestTexts(f *testing.F) {
	f.Add([]byte(`{"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"tool_use","input":{"a":["b",{"c":"d"}]}}]}]}`))
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"text","text":"x"}]}]}]}`))
	f.Add([]byte(`{"stop_sequences":["s"],"metadata":{"user_id":"u"},"tool_choice":{"type":"tool","name":"f"},"tools":[{"name":"f","input_schema":{"properties":{"p":{}},"required":["p"]}}],` +
		`"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x"}},{"type":"tool_use","name":"f","input":{"k":"v"}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		refs, err := anthropic.RequestTexts(nil, body)
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
		_, err = anthropic.RequestTexts(nil, masked)
		require.NoError(t, err, "masked body: %s", masked)
		_, _ = anthropic.ParseRequest(body)
		_, _ = anthropic.ResponseTexts(nil, body)
	})
}

func readTestdataF(f *testing.F, path string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func readTestdataB(b *testing.B, path string) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func TestRequestTextsDocumentsToolsCitations(t *testing.T) {
	t.Parallel()
	body := []byte(`{"model":"m","max_tokens":1,
		"tools":[{"name":"f","description":"d1","input_schema":{"type":"object","properties":{"a":{"description":"d2"}}}}],
		"messages":[{"role":"user","content":[
			{"type":"document","title":"T","context":"C","source":{"type":"content","content":[{"type":"text","text":"inner"}]}},
			{"type":"document","source":{"type":"content","content":"plain"}}
		]},{"role":"assistant","content":[{"type":"text","text":"x","citations":[{"type":"char_location","cited_text":"cited","document_title":"dt"}]}]}]}`)
	refs, err := anthropic.RequestTexts(nil, body)
	require.NoError(t, err)
	want := []text{
		{"d1", "system", providers.TextToolDef, -1, 0},
		{"object", "system", providers.TextToolDef, -1, 0},
		{"d2", "system", providers.TextToolDef, -1, 0},
		{"T", "user", providers.TextMessage, 0, 0},
		{"C", "user", providers.TextMessage, 0, 0},
		{"inner", "user", providers.TextMessage, 0, 0},
		{"plain", "user", providers.TextMessage, 0, 1},
		{"x", "assistant", providers.TextMessage, 1, 0},
		{"char_location", "assistant", providers.TextMessage, 1, 0},
		{"cited", "assistant", providers.TextMessage, 1, 0},
		{"dt", "assistant", providers.TextMessage, 1, 0},
		// fields: the tool's name, the schema's member names
		{"f", "system", providers.TextToolDef, -1, 0},
		{"a", "system", providers.TextToolDef, -1, 0}, // schema keywords are left out
	}
	assert.Equal(t, want, decodeAll(t, body, refs))
}
