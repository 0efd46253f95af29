//go:build !race

// The race detector allocates on its own, so allocation counts are only
// checked without it.

package openai_test

import (
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

func TestHotPathAllocs(t *testing.T) {
	body := chatBody(4 << 10)
	refs := make([]providers.TextRef, 0, 256)
	out := make([]byte, 0, 2*len(body))
	opt := openai.Rewrite{
		Model:            "gpt-4o",
		Prepend:          []providers.Message{{Role: "system", Content: "policy"}},
		IncludeUsage:     true,
		DefaultMaxTokens: 100,
	}
	resp := []byte(`{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":0}}}`)
	event := []byte(`{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}],"usage":null}`)
	var st openai.StreamState
	cases := []struct {
		name string
		fn   func()
	}{
		{"request texts", func() { refs, _ = openai.RequestTexts(refs[:0], body, openai.Chat) }},
		{"rewrite", func() { out, _ = openai.RewriteRequest(out[:0], body, openai.Chat, opt) }},
		{"response usage", func() { _, _ = openai.ParseResponseUsage(resp) }},
		{"response texts", func() { refs, _ = openai.ResponseTexts(refs[:0], resp, openai.Chat) }},
		{"stream feed", func() { st.Reset(openai.Chat, 1); refs, _ = st.Feed(refs[:0], event) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if allocs := testing.AllocsPerRun(50, tc.fn); allocs != 0 {
				t.Fatalf("%v allocations, want 0", allocs)
			}
		})
	}
}

func TestDefinitionsAllocs(t *testing.T) {
	body := []byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],` +
		`"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"q":{"type":"string","description":"x"}}}}}],` +
		`"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}},"prediction":{"type":"content","content":"p"}}`)
	refs := make([]providers.TextRef, 0, 64)
	for name, fn := range map[string]func(){
		"request texts": func() { refs, _ = openai.RequestTexts(refs[:0], body, openai.Chat) },
		"parse":         func() { _, _ = openai.ParseRequest(body, openai.Chat) },
	} {
		if allocs := testing.AllocsPerRun(50, fn); allocs != 0 {
			t.Errorf("%s: %v allocations, want 0", name, allocs)
		}
	}
}
