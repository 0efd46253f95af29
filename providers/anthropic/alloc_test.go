//go:build !race

// The race detector allocates on its own, so allocation counts are only
// checked without it.

package anthropic_test

import (
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
)

func TestHotPathAllocs(t *testing.T) {
	body := messagesBody(4 << 10)
	refs := make([]providers.TextRef, 0, 256)
	out := make([]byte, 0, 2*len(body))
	opt := anthropic.Rewrite{Model: "claude-x", Prepend: []providers.Message{{Role: "system", Content: "policy"}}, DefaultMaxTokens: 100}
	delta := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`)
	cite := []byte(`{"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{"type":"web_search_result_location","cited_text":"c","url":"u","title":"t","encrypted_index":"x"}}}`)
	answer := readTestdata(t, "responses/response_web_search.json")
	var st anthropic.StreamState
	var ev anthropic.Event
	cases := []struct {
		name string
		fn   func()
	}{
		{"request texts", func() { refs, _ = anthropic.RequestTexts(refs[:0], body) }},
		{"rewrite", func() { out, _ = anthropic.RewriteRequest(out[:0], body, opt) }},
		{"stream feed", func() { st.Reset(1); refs, _ = st.Feed(refs[:0], delta) }},
		{"stream next", func() { _ = st.Next(delta, &ev) }},
		{"stream citation", func() { st.Reset(1); refs, _ = st.Feed(refs[:0], cite) }},
		{"web search answer texts", func() { refs, _ = anthropic.ResponseTexts(refs[:0], answer) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if allocs := testing.AllocsPerRun(50, tc.fn); allocs != 0 {
				t.Fatalf("%v allocations, want 0", allocs)
			}
		})
	}
}
