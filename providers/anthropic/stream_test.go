package anthropic_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

type streamKey struct {
	Kind string
	Part int
}

// events parses a recorded stream, fed in uneven chunks.
func events(t *testing.T, file string) []sse.Event {
	t.Helper()
	raw := readTestdata(t, filepath.Join("streams", file))
	var p sse.Parser
	var out []sse.Event
	sizes := []int{5, 1, 90, 13, 400}
	for i := 0; len(raw) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(raw))
		p.Feed(raw[:n])
		raw = raw[n:]
		for {
			ev, ok, err := p.Next()
			require.NoError(t, err)
			if !ok {
				break
			}
			out = append(out, sse.Event{Name: append([]byte(nil), ev.Name...), Data: append([]byte(nil), ev.Data...)})
		}
	}
	return out
}

func TestStreamState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		file      string
		wantUsage providers.Usage
		wantTexts map[streamKey]string
		done      bool
	}{
		{
			name:      "text",
			file:      "text.sse",
			wantUsage: providers.Usage{PromptTokens: 25, CompletionTokens: 15, Reported: true},
			wantTexts: map[streamKey]string{{providers.TextDelta, 0}: "Hello! Here is a \"quoted\" word,\na new line and café 😀."},
			done:      true,
		},
		{
			name:      "tool use with cache",
			file:      "tool_use.sse",
			wantUsage: providers.Usage{PromptTokens: 12 + 1800 + 200, CompletionTokens: 89, CachedTokens: 1800, CacheWriteTokens: 200, Reported: true},
			wantTexts: map[streamKey]string{
				{providers.TextDelta, 0}:    "I'll check the weather.",
				{providers.TextToolArgs, 1}: `{"location": "San Francisco, CA", "unit": "fahrenheit"}`,
			},
			done: true,
		},
		{
			name:      "thinking",
			file:      "thinking.sse",
			wantUsage: providers.Usage{PromptTokens: 40, CompletionTokens: 61, Reported: true},
			wantTexts: map[streamKey]string{
				{providers.TextReasoning, 0}: "The user wants 2+2. That is 4.",
				{providers.TextDelta, 1}:     "2 + 2 = 4",
			},
			done: true,
		},
		{
			name:      "error mid-stream",
			file:      "error.sse",
			wantUsage: providers.Usage{PromptTokens: 9, CompletionTokens: providers.EstimateTokens([]byte("Partial"))},
			// The error's message is read whole (a WholePart).
			wantTexts: map[streamKey]string{{providers.TextDelta, 0}: "Partial", {providers.TextToolArgs, math.MinInt64 / 2}: "Overloaded"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := anthropic.NewStreamState(999)
			texts := map[streamKey]string{}
			var refs []providers.TextRef
			for _, ev := range events(t, tc.file) {
				var err error
				refs, err = st.Feed(refs[:0], ev.Data)
				require.NoError(t, err)
				for _, r := range refs {
					b, err := providers.DecodeText(nil, ev.Data, r)
					require.NoError(t, err)
					assert.Equal(t, "assistant", r.Role)
					texts[streamKey{r.Kind, r.Part}] += string(b)
				}
			}
			assert.Equal(t, tc.wantUsage, st.Usage())
			assert.Equal(t, tc.wantTexts, texts)
			assert.Equal(t, tc.done, st.Done())
		})
	}
}

func TestStreamStateNoStart(t *testing.T) {
	t.Parallel()
	st := anthropic.NewStreamState(77)
	_, err := st.Feed(nil, []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello there"}}`))
	require.NoError(t, err)
	u := st.Usage()
	assert.False(t, u.Reported)
	assert.Equal(t, int64(77), u.PromptTokens)
	assert.Equal(t, providers.EstimateTokens([]byte("hello there")), u.CompletionTokens)
	// A message_delta without message_start gives the output but the
	// prompt stays estimated.
	_, err = st.Feed(nil, []byte(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}`))
	require.NoError(t, err)
	assert.Equal(t, providers.Usage{PromptTokens: 77, CompletionTokens: 3}, st.Usage())
	st.Reset(5)
	assert.Equal(t, providers.Usage{PromptTokens: 5}, st.Usage())
}

func TestStreamStateMalformed(t *testing.T) {
	t.Parallel()
	st := anthropic.NewStreamState(1)
	_, err := st.Feed(nil, []byte(`{"type":"message_start","message":{"usage":{"input_tokens":"x"}}}`))
	assert.ErrorIs(t, err, providers.ErrType)
	_, err = st.Feed(nil, []byte(`{"type":`))
	assert.ErrorIs(t, err, providers.ErrSyntax)
	assert.Equal(t, providers.Usage{PromptTokens: 1}, st.Usage())
}

func TestDeltaTexts(t *testing.T) {
	t.Parallel()
	data := []byte(`{"delta":{"text":"hi","type":"text_delta"},"index":3,"type":"content_block_delta"}`)
	refs, err := anthropic.DeltaTexts(nil, data)
	require.NoError(t, err)
	assert.Equal(t, []providers.TextRef{{Start: 17, End: 21, Role: "assistant", Kind: providers.TextDelta, Index: 0, Part: 3}}, refs)
	refs, err = anthropic.DeltaTexts(refs[:0], []byte(`{"type":"ping"}`))
	require.NoError(t, err)
	assert.Empty(t, refs)
	refs, err = anthropic.DeltaTexts(refs[:0], []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}`))
	require.NoError(t, err)
	assert.Empty(t, refs, "signatures are not text")
	for _, c := range []struct{ data, kind string }{
		{`{"type":"content_block_start","index":1,"content_block":{"type":"text","text":"hi"}}`, providers.TextDelta},
		{`{"type":"content_block_start","index":1,"content_block":{"type":"thinking","thinking":"hm","signature":""}}`, providers.TextReasoning},
	} {
		refs, err = anthropic.DeltaTexts(refs[:0], []byte(c.data))
		require.NoError(t, err)
		require.Len(t, refs, 1, "a block that opens with text: %s", c.data)
		assert.Equal(t, c.kind, refs[0].Kind)
		assert.Equal(t, 1, refs[0].Part)
	}
	refs, err = anthropic.DeltaTexts(refs[:0], []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`))
	require.NoError(t, err)
	assert.Empty(t, refs, "an empty opening is no text")
}

func TestParseResponseUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		want providers.Usage
		err  error
	}{
		{
			name: "plain",
			body: `{"id":"msg","type":"message","usage":{"input_tokens":25,"output_tokens":15}}`,
			want: providers.Usage{PromptTokens: 25, CompletionTokens: 15, Reported: true},
		},
		{
			name: "cache read and creation",
			body: `{"usage":{"input_tokens":50,"cache_creation_input_tokens":248,"cache_read_input_tokens":1800,"output_tokens":503,"service_tier":"standard"}}`,
			want: providers.Usage{PromptTokens: 50 + 248 + 1800, CompletionTokens: 503, CachedTokens: 1800, CacheWriteTokens: 248, Reported: true},
		},
		{
			name: "null cache fields",
			body: `{"usage":{"input_tokens":3,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":4,"server_tool_use":{"web_search_requests":1}}}`,
			want: providers.Usage{PromptTokens: 3, CompletionTokens: 4, Reported: true},
		},
		{name: "error body", body: `{"type":"error","error":{"type":"api_error","message":"x"}}`, want: providers.Usage{}},
		{name: "wrong type", body: `{"usage":{"output_tokens":true}}`, err: providers.ErrType},
		{name: "malformed", body: `{"usage":`, err: providers.ErrSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := anthropic.ParseResponseUsage([]byte(tc.body))
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestResponseTexts(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, filepath.Join("responses", "response_text.json"))
	refs, err := anthropic.ResponseTexts(nil, body)
	require.NoError(t, err)
	assert.Equal(t, []text{
		{"simple", "assistant", providers.TextReasoning, 0, 0},
		{"Hello! ", "assistant", providers.TextCompletion, 0, 1},
		{"It's \"sunny\"\nin café land.", "assistant", providers.TextCompletion, 0, 2},
	}, decodeAll(t, body, refs))

	body = readTestdata(t, filepath.Join("responses", "response_tool_use.json"))
	refs, err = anthropic.ResponseTexts(nil, body)
	require.NoError(t, err)
	assert.Equal(t, []text{
		{"San Francisco, CA", "assistant", providers.TextToolArgs, 0, 0},
		{"celsius", "assistant", providers.TextToolArgs, 0, 0},
	}, decodeAll(t, body, refs))
}

// FuzzStreamState checks that stream events never panic the state and
// that refs decode (translation: hub.FuzzStream).
func FuzzStreamState(f *testing.F) {
	for _, file := range []string{"text.sse", "tool_use.sse", "thinking.sse", "error.sse", "web_search.sse"} {
		raw := readTestdataF(f, filepath.Join("streams", file))
		var p sse.Parser
		p.Feed(raw)
		for {
			ev, ok, err := p.Next()
			if err != nil || !ok {
				break
			}
			f.Add(append([]byte(nil), ev.Data...))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st := anthropic.NewStreamState(5)
		refs, err := st.Feed(nil, data)
		if err == nil {
			for _, r := range refs {
				_, err := providers.DecodeText(nil, data, r)
				require.NoError(t, err)
			}
		}
		var ev anthropic.Event
		_ = st.Next(data, &ev)
		n := 0
		refs, err = anthropic.StreamTexts(nil, data, &n)
		if err == nil {
			for _, r := range refs {
				_, err := providers.DecodeText(nil, data, r)
				require.NoError(t, err)
			}
		}
	})
}
