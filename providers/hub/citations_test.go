package hub_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

// citationTexts are the strings of the test answers' citations and search
// results: none may reach a client through translation.
var citationTexts = []string{"tides.example", "Brest tides", "High water", "port's log", "Harbour", "June 3", "srvtoolu", "tide tables"}

// TestTranslateDropsCitations: a translated answer carries the text and
// none of the provider's citations (Anthropic's text block citations and
// web search blocks, OpenAI's url_citation annotations), whole and
// streamed, in every client format.
func TestTranslateDropsCitations(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from        hub.Wire
		whole, strm string
	}{
		{hub.Messages, "translate/response_web_search.json", "streams/web_search.sse"},
		{hub.Chat, "translate/response_citations.openai.json", "streams/chat_citations.sse"},
	}
	for _, c := range cases {
		for _, to := range []hub.Wire{hub.Chat, hub.Responses, hub.Messages} {
			if (c.from == hub.Messages) == (to == hub.Messages) {
				continue // native
			}
			var r hub.Response
			out, err := hub.TranslateResponse(nil, &r, c.from, to, readTestdata(t, c.whole), "m", 1)
			require.NoError(t, err)
			assert.Contains(t, string(out), "High tide is at 6:12.")
			for _, s := range citationTexts {
				assert.NotContains(t, string(out), s, "%d → %d whole", c.from, to)
			}

			tr := hub.NewStream(c.from, to, "m", 1, true, 10)
			var p sse.Parser
			p.Feed(readTestdata(t, c.strm))
			out = out[:0]
			whole := 0
			for {
				ev, ok, err := p.Next()
				require.NoError(t, err)
				if !ok {
					break
				}
				refs, err := tr.DeltaTexts(nil, ev.Data)
				require.NoError(t, err)
				for _, ref := range refs {
					if ref.Kind == providers.TextToolArgs && (anthropic.WholePart(ref.Part) || openai.CitationPart(ref.Part)) {
						whole++ // the rules read it all the same
					}
				}
				out, err = tr.Translate(out, ev.Data)
				require.NoError(t, err)
			}
			out = tr.Close(out)
			got := readStream(t, to, out)
			assert.Equal(t, "High tide is at 6:12.", got.text)
			for _, s := range citationTexts {
				assert.NotContains(t, string(out), s, "%d → %d stream", c.from, to)
			}
			assert.Positive(t, whole, "DeltaTexts references the citations for the output rules")
		}
	}
}

// TestStreamDeltaTextsNumbersCitations: a stream's whole texts
// (citations, an error's message) get a Part of their own through the
// stream, so two held in one read are never joined; Reset starts over.
func TestStreamDeltaTextsNumbersCitations(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from   hub.Wire
		events []string
		whole  func(int) bool
	}{
		{hub.Messages, []string{
			`{"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{"type":"char_location","cited_text":"a","document_title":"b"}}}`,
			`{"type":"error","error":{"type":"overloaded_error","message":"c"}}`,
		}, anthropic.WholePart},
		{hub.Chat, []string{
			`{"choices":[{"index":0,"delta":{"annotations":[{"type":"url_citation","url_citation":{"url":"a","title":"b"}}]}}]}`,
			`{"error":{"message":"c","type":"server_error"}}`,
		}, openai.CitationPart},
	}
	for _, c := range cases {
		tr := hub.NewStream(c.from, hub.Responses, "m", 1, false, 0)
		var parts []int
		for _, ev := range c.events {
			refs, err := tr.DeltaTexts(nil, []byte(ev))
			require.NoError(t, err)
			for _, r := range refs {
				require.True(t, c.whole(r.Part))
				parts = append(parts, r.Part)
			}
		}
		require.Len(t, parts, 3)
		assert.Equal(t, []int{parts[0], parts[0] + 1, parts[0] + 2}, parts, "from %d", c.from)
		tr.Reset(c.from, hub.Responses, "m", 1, false, 0)
		refs, err := tr.DeltaTexts(nil, []byte(c.events[0]))
		require.NoError(t, err)
		assert.Equal(t, parts[0], refs[0].Part)
	}
}
