package proxy

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// TestWholeTextNotCounted: a stream's citations and server tool results
// are checked whole and count as no generated fragment for the budget cut;
// text, tool arguments and reasoning do.
func TestWholeTextNotCounted(t *testing.T) {
	t.Parallel()
	cite := []byte(`{"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{"type":"char_location","cited_text":"quoted","document_title":"doc"}}}`)
	text := []byte(`{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"said"}}`)
	chatCite := []byte(`{"id":"c","choices":[{"index":0,"delta":{"annotations":[{"type":"url_citation","url_citation":{"url":"https://u.example","title":"t"}}]}}]}`)
	cases := []struct {
		name  string
		mode  streamMode
		data  []byte
		whole int
		count int64
	}{
		{"anthropic citation", modeAnthropic, cite, 2, 0},
		{"anthropic text", modeAnthropic, text, 0, 1},
		{"chat citation", modeOpenAI, chatCite, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &relay{mode: tc.mode, outAllow: 100}
			var err error
			if tc.mode == modeAnthropic {
				r.refs, err = anthropic.DeltaTexts(nil, tc.data)
			} else {
				r.refs, err = openai.DeltaTexts(nil, tc.data, openai.Chat)
			}
			assert.NoError(t, err)
			whole := 0
			for _, ref := range r.refs {
				if wholeText(ref) {
					whole++
				}
			}
			assert.Equal(t, tc.whole, whole)
			assert.False(t, r.countFragments(tc.data))
			assert.Equal(t, tc.count, r.fragments)
		})
	}
	assert.False(t, wholeText(providers.TextRef{Kind: providers.TextDelta, Part: 0}))
}

// TestRetireWhole: once settled, the filters of whole texts leave the
// relay (kept as spares, up to the bound); the others stay.
func TestRetireWhole(t *testing.T) {
	t.Parallel()
	r := &relay{}
	text := &textFilter{kind: providers.TextDelta, part: 0}
	args := &textFilter{kind: providers.TextToolArgs, part: 1}
	r.filters = []*textFilter{text}
	for i := range maxSpareFilters + 2 {
		r.filters = append(r.filters, &textFilter{kind: providers.TextToolArgs, part: math.MinInt64/2 + i})
	}
	r.filters = append(r.filters, args)
	r.retireWhole()
	assert.Equal(t, []*textFilter{text, args}, r.filters)
	assert.Len(t, r.spare, maxSpareFilters)
}
