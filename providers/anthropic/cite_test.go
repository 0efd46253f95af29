package anthropic_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
)

// TestResponseTextsCitations: a web search answer's query, result (url,
// title, page age), and the text's citations (cited_text, url, title,
// document_title) are read; ids, types and encrypted payloads are not.
func TestResponseTextsCitations(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, filepath.Join("responses", "response_web_search.json"))
	refs, err := anthropic.ResponseTexts(nil, body)
	require.NoError(t, err)
	args := providers.TextToolArgs
	assert.Equal(t, []text{
		{"tide tables brest", "assistant", args, 0, 0},
		{"https://tides.example/brest", "assistant", args, 0, 1},
		{"Brest tides", "assistant", args, 0, 1},
		{"June 3, 2026", "assistant", args, 0, 1},
		{"High tide is at 6:12.", "assistant", providers.TextCompletion, 0, 2},
		{"High water 06:12", "assistant", args, 0, 2},
		{"https://tides.example/brest", "assistant", args, 0, 2},
		{"Brest tides", "assistant", args, 0, 2},
		{"the port's log", "assistant", args, 0, 2},
		{`Harbour "log"`, "assistant", args, 0, 2},
	}, decodeAll(t, body, refs))
}

// TestStreamCitations: a citations_delta's strings and a result block's
// are whole texts (WholePart), each with a Part of its own through the
// stream (Feed, StreamTexts) or the event (DeltaTexts), and count no
// generated tokens.
func TestStreamCitations(t *testing.T) {
	t.Parallel()
	st := anthropic.NewStreamState(0)
	var whole []text
	var parts []int
	n := 0
	for _, ev := range events(t, "web_search.sse") {
		refs, err := st.Feed(nil, ev.Data)
		require.NoError(t, err)
		again, err := anthropic.StreamTexts(nil, ev.Data, &n)
		require.NoError(t, err)
		assert.Equal(t, refs, again, "StreamTexts numbers as Feed does")
		perEvent, err := anthropic.DeltaTexts(nil, ev.Data)
		require.NoError(t, err)
		require.Len(t, perEvent, len(refs))
		k := 0
		for i, r := range refs {
			if !anthropic.WholePart(r.Part) {
				assert.False(t, anthropic.WholePart(perEvent[i].Part))
				continue
			}
			assert.True(t, anthropic.WholePart(perEvent[i].Part))
			assert.Equal(t, k, perEvent[i].Part-perEventBase(perEvent), "DeltaTexts numbers within the event")
			k++
			whole = append(whole, decodeAll(t, ev.Data, refs[i:i+1])[0])
			parts = append(parts, r.Part)
		}
	}
	for i := range whole {
		whole[i].Part = 0
	}
	args := providers.TextToolArgs
	assert.Equal(t, []text{
		{"https://tides.example/brest", "assistant", args, 0, 0},
		{"Brest tides", "assistant", args, 0, 0},
		{"June 3, 2026", "assistant", args, 0, 0},
		{"High water 06:12", "assistant", args, 0, 0},
		{"https://tides.example/brest", "assistant", args, 0, 0},
		{"Brest tides", "assistant", args, 0, 0},
	}, whole)
	for i := 1; i < len(parts); i++ {
		assert.Equal(t, parts[i-1]+1, parts[i], "one Part per whole text")
	}
	// Counted: the query and the text fragments only.
	want := providers.EstimateLiteral([]byte(`"{\"query\": \"tide tables brest\"}"`)) + providers.EstimateLiteral([]byte(`"High tide is at 6:12."`))
	assert.Equal(t, want, st.Counted())
	assert.False(t, anthropic.WholePart(0))
	assert.False(t, anthropic.WholePart(-1))
	assert.False(t, anthropic.WholePart(1<<30))
}

// perEventBase is the Part of an event's first whole text from DeltaTexts.
func perEventBase(refs []providers.TextRef) int {
	for _, r := range refs {
		if anthropic.WholePart(r.Part) {
			return r.Part
		}
	}
	return 0
}

// FuzzResponseTexts checks that no answer panics the walker and that
// every ref decodes.
func FuzzResponseTexts(f *testing.F) {
	for _, file := range []string{"response_text.json", "response_tool_use.json", "response_web_search.json"} {
		f.Add(readTestdataF(f, filepath.Join("responses", file)))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		refs, err := anthropic.ResponseTexts(nil, body)
		if err != nil {
			return
		}
		for _, r := range refs {
			_, err := providers.DecodeText(nil, body, r)
			require.NoError(t, err)
		}
	})
}

// TestStreamWholeOpenings: a block or message that opens with texts in it
// (a tool input, a message_start's content) has them read whole; the
// empty openings the API sends have none.
func TestStreamWholeOpenings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		data string
		want []string
	}{
		{`{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{"q":"secret","n":[1,"two"]}}}`, []string{"secret", "two"}},
		{`{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}`, nil},
		{`{"type":"message_start","message":{"id":"m","content":[{"type":"text","text":"early"}],"usage":{"input_tokens":1}}}`, []string{"early"}},
		{`{"type":"message_start","message":{"id":"m","content":[],"usage":{"input_tokens":1}}}`, nil},
		{`{"type":"content_block_start","index":2,"content_block":{"type":"text","text":"","citations":null}}`, nil},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"input\":{\"a\":\"b\"}"}}`, []string{`{"input":{"a":"b"}`}},
	}
	for _, c := range cases {
		refs, err := anthropic.DeltaTexts(nil, []byte(c.data))
		require.NoError(t, err)
		var got []string
		for _, r := range refs {
			b, err := providers.DecodeText(nil, []byte(c.data), r)
			require.NoError(t, err)
			got = append(got, string(b))
		}
		assert.Equal(t, c.want, got, c.data)
	}
}
