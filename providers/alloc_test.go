//go:build !race

// The race detector allocates on its own, so allocation counts are only
// checked without it.

package providers_test

import (
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers"
)

func TestHotPathAllocs(t *testing.T) {
	body := chatBody(4 << 10)
	lit := providers.AppendString(nil, body)
	ref := providers.TextRef{Start: 0, End: len(lit)}
	text, err := providers.DecodeText(nil, lit, ref)
	if err != nil {
		t.Fatal(err)
	}
	edits := []providers.Edit{{Ref: ref, Text: text}}
	out := make([]byte, 0, 2*len(lit))
	buf := make([]byte, 0, len(lit))
	cases := []struct {
		name string
		fn   func()
	}{
		{"scanner walk", func() { _ = walkAll(body) }},
		{"estimate", func() { providers.EstimateTokens(body) }},
		{"estimate literal", func() { providers.EstimateLiteral(lit) }},
		{"decode", func() { buf, _ = providers.DecodeText(buf[:0], lit, ref) }},
		{"splice", func() { out, _ = providers.Splice(out[:0], lit, edits) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if allocs := testing.AllocsPerRun(50, tc.fn); allocs != 0 {
				t.Fatalf("%v allocations, want 0", allocs)
			}
		})
	}
}
