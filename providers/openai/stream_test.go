package openai_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

// streamKey groups delta texts that belong to one logical text.
type streamKey struct {
	Kind        string
	Index, Part int
}

// replay feeds a recorded stream through the SSE parser in uneven chunks
// and a StreamState, returning the joined delta texts per stream key.
func replay(t *testing.T, file string, ep openai.Endpoint, promptEstimate int64) (*openai.StreamState, map[streamKey]string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "streams", file))
	require.NoError(t, err)
	st := openai.NewStreamState(ep, promptEstimate)
	texts := map[streamKey]string{}
	var p sse.Parser
	var refs []providers.TextRef
	sizes := []int{1, 7, 64, 3, 300, 19}
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
			refs, err = st.Feed(refs[:0], ev.Data)
			require.NoError(t, err)
			for _, r := range refs {
				assert.Equal(t, "assistant", r.Role)
				b, err := providers.DecodeText(nil, ev.Data, r)
				require.NoError(t, err)
				texts[streamKey{r.Kind, r.Index, r.Part}] += string(b)
			}
		}
	}
	return st, texts
}

func TestStreamState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		file      string
		endpoint  openai.Endpoint
		wantUsage providers.Usage
		wantTexts map[streamKey]string
	}{
		{
			name:      "chat with final usage chunk",
			file:      "chat_usage.sse",
			endpoint:  openai.Chat,
			wantUsage: providers.Usage{PromptTokens: 19, CompletionTokens: 10, Reported: true},
			wantTexts: map[streamKey]string{{providers.TextDelta, 0, -1}: "Hello! How can I help you today?"},
		},
		{
			name:      "chat tool calls with cached prompt",
			file:      "chat_tools.sse",
			endpoint:  openai.Chat,
			wantUsage: providers.Usage{PromptTokens: 85, CompletionTokens: 41, CachedTokens: 64, Reported: true},
			wantTexts: map[streamKey]string{
				{providers.TextToolArgs, 0, 0}: `{"location":"Paris, FR","unit":"c"}`,
				{providers.TextToolArgs, 0, 1}: `{"tz":"Europe/Paris"}`,
			},
		},
		{
			name:      "groq usage in x_groq",
			file:      "chat_groq.sse",
			endpoint:  openai.Chat,
			wantUsage: providers.Usage{PromptTokens: 42, CompletionTokens: 8, Reported: true},
			wantTexts: map[streamKey]string{{providers.TextDelta, 0, -1}: "Why did the gopher cross the road?"},
		},
		{
			name:      "completions",
			file:      "completions.sse",
			endpoint:  openai.Completions,
			wantUsage: providers.Usage{PromptTokens: 4, CompletionTokens: 6, Reported: true},
			wantTexts: map[streamKey]string{{providers.TextDelta, 0, -1}: " there was a tiny proxy."},
		},
		{
			name:      "responses",
			file:      "responses.sse",
			endpoint:  openai.Responses,
			wantUsage: providers.Usage{PromptTokens: 37, CompletionTokens: 148, CachedTokens: 12, ReasoningTokens: 128, Reported: true},
			wantTexts: map[streamKey]string{
				{providers.TextReasoning, 0, 0}: "Planning a short answer.",
				{providers.TextDelta, 1, 0}:     "Bonjour ! Voilà la réponse.",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, texts := replay(t, tc.file, tc.endpoint, 500)
			assert.True(t, st.Done())
			assert.Equal(t, tc.wantUsage, st.Usage())
			assert.Equal(t, tc.wantTexts, texts)
			assert.Positive(t, st.Counted())
		})
	}
}

// TestStreamStateWithoutUsage: a stream that never reports usage is
// settled with the caller's prompt estimate and the counted output.
func TestStreamStateWithoutUsage(t *testing.T) {
	t.Parallel()
	st, texts := replay(t, "chat_no_usage.sse", openai.Chat, 321)
	assert.Equal(t, map[streamKey]string{{providers.TextDelta, 0, -1}: "Line one\nsays \"café\" and 😀 done."}, texts)
	u := st.Usage()
	assert.False(t, u.Reported)
	assert.Equal(t, int64(321), u.PromptTokens)
	want := providers.EstimateTokens([]byte("Line one\nsays \"café\"")) + providers.EstimateTokens([]byte(" and 😀 done."))
	assert.Equal(t, want, u.CompletionTokens)
	assert.True(t, st.Done())
}

// TestStreamStateCutShort: a client that disconnects mid-stream is settled
// for what was produced.
func TestStreamStateCutShort(t *testing.T) {
	t.Parallel()
	st := openai.NewStreamState(openai.Chat, 50)
	_, err := st.Feed(nil, []byte(`{"choices":[{"index":0,"delta":{"content":"partial answer"}}]}`))
	require.NoError(t, err)
	assert.False(t, st.Done())
	assert.Equal(t, providers.Usage{PromptTokens: 50, CompletionTokens: providers.EstimateTokens([]byte("partial answer"))}, st.Usage())
}

func TestStreamStateMalformed(t *testing.T) {
	t.Parallel()
	st := openai.NewStreamState(openai.Chat, 10)
	refs, err := st.Feed(nil, []byte(`{"choices":[{"delta":{"content":"x"}}`))
	assert.ErrorIs(t, err, providers.ErrSyntax)
	assert.Empty(t, refs)
	assert.Equal(t, int64(0), st.Counted(), "a bad event changes no accounting")
}

func TestDeltaTexts(t *testing.T) {
	t.Parallel()
	data := []byte(`{"choices":[{"delta":{"content":"a\"b","reasoning_content":"r"},"index":2}]}`)
	refs, err := openai.DeltaTexts(nil, data, openai.Chat)
	require.NoError(t, err)
	require.Len(t, refs, 2)
	assert.Equal(t, providers.TextDelta, refs[0].Kind)
	assert.Equal(t, 2, refs[0].Index, "index member read after delta")
	assert.Equal(t, providers.TextReasoning, refs[1].Kind)
	refs, err = openai.DeltaTexts(refs[:0], []byte("[DONE]"), openai.Chat)
	require.NoError(t, err)
	assert.Empty(t, refs)
	refs, err = openai.DeltaTexts(nil, []byte(`{"delta":"x","type":"response.function_call_arguments.delta","output_index":3}`), openai.Responses)
	require.NoError(t, err)
	require.Len(t, refs, 1)
	assert.Equal(t, providers.TextRef{Start: 9, End: 12, Role: "assistant", Kind: providers.TextToolArgs, Index: 3, Part: -1}, refs[0])
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
			name: "chat plain",
			body: `{"id":"x","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}`,
			want: providers.Usage{PromptTokens: 12, CompletionTokens: 30, Reported: true},
		},
		{
			name: "chat with details",
			body: `{"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":256,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"choices":[]}`,
			want: providers.Usage{PromptTokens: 2006, CompletionTokens: 300, CachedTokens: 1920, ReasoningTokens: 256, Reported: true},
		},
		{
			name: "null details",
			body: `{"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":null,"completion_tokens_details":{"reasoning_tokens":null}}}`,
			want: providers.Usage{PromptTokens: 5, CompletionTokens: 1, Reported: true},
		},
		{
			name: "embeddings",
			body: `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`,
			want: providers.Usage{PromptTokens: 8, Reported: true},
		},
		{
			name: "responses",
			body: `{"id":"resp_1","output":[],"usage":{"input_tokens":328,"input_tokens_details":{"cached_tokens":0},"output_tokens":52,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":380}}`,
			want: providers.Usage{PromptTokens: 328, CompletionTokens: 52, Reported: true},
		},
		{
			name: "responses with cache and reasoning",
			body: `{"usage":{"input_tokens":4000,"input_tokens_details":{"cached_tokens":3584},"output_tokens":900,"output_tokens_details":{"reasoning_tokens":640}}}`,
			want: providers.Usage{PromptTokens: 4000, CompletionTokens: 900, CachedTokens: 3584, ReasoningTokens: 640, Reported: true},
		},
		{name: "no usage", body: `{"choices":[]}`, want: providers.Usage{}},
		{name: "null usage", body: `{"usage":null}`, want: providers.Usage{}},
		{name: "usage wrong type", body: `{"usage":"many"}`, err: providers.ErrType},
		{name: "count wrong type", body: `{"usage":{"prompt_tokens":"7"}}`, err: providers.ErrType},
		{name: "malformed", body: `{"usage":{"prompt_tokens":7}`, err: providers.ErrSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := openai.ParseResponseUsage([]byte(tc.body))
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzStreamFeed checks that stream events never panic the state and that
// delta refs lie inside the event data and decode.
func FuzzStreamFeed(f *testing.F) {
	f.Add([]byte(`{"choices":[{"index":0,"delta":{"content":"a\nb","tool_calls":[{"index":1,"function":{"arguments":"{"}}]}}],"usage":null}`), uint8(0))
	f.Add([]byte(`{"type":"response.output_text.delta","delta":"x","output_index":0,"content_index":0}`), uint8(3))
	f.Add([]byte(`{"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":2}}}`), uint8(3))
	f.Add([]byte(`{"error":{"message":"Bad 'x'","type":"server_error","code":null}}`), uint8(0))
	f.Add([]byte(`{"error":"plain"}`), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, ep uint8) {
		st := openai.NewStreamState(openai.Endpoint(ep%4+1), 5)
		refs, err := st.Feed(nil, data)
		if err != nil {
			return
		}
		for _, r := range refs {
			_, err := providers.DecodeText(nil, data, r)
			require.NoError(t, err)
		}
		u := st.Usage()
		require.GreaterOrEqual(t, u.CompletionTokens, int64(0))
	})
}

// TestDeltaTextsHosted: the deltas of hosted tools and audio transcripts
// are text the output rules read; audio bytes and events without a string
// delta are not.
func TestDeltaTextsHosted(t *testing.T) {
	t.Parallel()
	cases := []struct {
		data string
		kind string // "" when no text is expected
		part int
	}{
		{`{"type":"response.code_interpreter_call_code.delta","output_index":0,"delta":"print"}`, providers.TextToolArgs, -1},
		{`{"type":"response.mcp_call_arguments.delta","output_index":1,"delta":"{\"q\""}`, providers.TextToolArgs, -1},
		{`{"type":"response.output_audio_transcript.delta","output_index":2,"content_index":0,"delta":"hi"}`, providers.TextDelta, 0},
		{`{"type":"response.audio.transcript.delta","output_index":2,"content_index":1,"delta":"hi"}`, providers.TextDelta, 1},
		{`{"type":"response.audio.delta","output_index":0,"content_index":0,"delta":"UklGRg=="}`, "", 0},
		{`{"type":"response.output_audio.delta","output_index":0,"content_index":0,"delta":"UklGRg=="}`, "", 0},
		{`{"type":"response.mcp_call.in_progress","output_index":0}`, "", 0},
		{`{"type":"other.thing.delta","delta":"x"}`, "", 0},
		{`{"type":"response.shell_call_command.delta","output_index":0,"command_index":1,"delta":"ls","obfuscation":"zz"}`, providers.TextToolArgs, 1},
		{`{"type":"response.shell_call_output_content.delta","output_index":1,"item_id":"so","command_index":0,"delta":{"stdout":"42"}}`, providers.TextToolArgs, math.MinInt32},
		{`{"type":"response.shell_call_output_content.delta","output_index":1,"item_id":"so","command_index":1,"delta":{"stderr":"w"}}`, providers.TextToolArgs, math.MinInt32 + 3},
		{`{"type":"response.apply_patch_call_operation_diff.delta","output_index":0,"item_id":"ap","delta":"+x"}`, providers.TextToolArgs, -1},
		{`{"type":"response.image_generation_call.partial_image","output_index":0,"item_id":"ig","partial_image_index":0,"partial_image_b64":"iVBORw0KGgo="}`, "", 0},
		{`{"type":"response.web_search_call.searching","output_index":0,"item_id":"ws"}`, "", 0},
	}
	for _, tc := range cases {
		refs, err := openai.DeltaTexts(nil, []byte(tc.data), openai.Responses)
		require.NoError(t, err, tc.data)
		if tc.kind == "" {
			assert.Empty(t, refs, tc.data)
			continue
		}
		require.Len(t, refs, 1, tc.data)
		assert.Equal(t, tc.kind, refs[0].Kind, tc.data)
		assert.Equal(t, tc.part, refs[0].Part, tc.data)
	}
}

func TestStreamChatCitations(t *testing.T) {
	t.Parallel()
	// A web search chat model's citations come in a delta of their own
	// near the end of the stream: every url and title is a text with a
	// Part of its own through the stream, and adds no generated tokens.
	events := []struct {
		data  string
		texts []string
	}{
		{`{"choices":[{"index":0,"delta":{"content":"See"}}]}`, []string{"See"}},
		{`{"choices":[{"index":1,"delta":{"annotations":[{"type":"url_citation","url_citation":{"end_index":3,"start_index":0,"title":"T1","url":"https://a.example/1"}}]}}]}`,
			[]string{"T1", "https://a.example/1"}},
		{`{"choices":[{"index":0,"delta":{"content":"","annotations":[{"type":"url_citation","url_citation":{"url":"https://b.example/2","title":"T\"2"}},{"type":"url_citation","url_citation":{"url":"u3","title":"T3"}}]}}]}`,
			[]string{"", "https://b.example/2", "T\"2", "u3", "T3"}},
	}
	st := openai.NewStreamState(openai.Chat, 0)
	parts := map[int]bool{}
	for i, ev := range events {
		refs, err := st.Feed(nil, []byte(ev.data))
		require.NoError(t, err)
		var got []string
		for _, ref := range refs {
			txt, err := providers.DecodeText(nil, []byte(ev.data), ref)
			require.NoError(t, err)
			got = append(got, string(txt))
			if ref.Kind == providers.TextDelta {
				assert.False(t, openai.CitationPart(ref.Part))
				continue
			}
			assert.Equal(t, providers.TextToolArgs, ref.Kind)
			assert.True(t, openai.CitationPart(ref.Part), "part %d", ref.Part)
			assert.False(t, parts[ref.Part], "part %d shared", ref.Part)
			parts[ref.Part] = true
			assert.Equal(t, map[int]int{1: 1, 2: 0}[i], ref.Index)
		}
		assert.Equal(t, ev.texts, got, ev.data)
	}
	assert.Len(t, parts, 6)
	assert.Equal(t, providers.EstimateLiteral([]byte(`"See"`))+providers.EstimateLiteral([]byte(`""`)), st.Counted(), "citations are no generated tokens")
	for _, p := range []int{-1, -2, 0, 3, math.MinInt32, math.MinInt64 / 4} {
		assert.False(t, openai.CitationPart(p), "%d", p)
	}
	// DeltaTexts numbers one event's citations from the start.
	refs, err := openai.DeltaTexts(nil, []byte(events[2].data), openai.Chat)
	require.NoError(t, err)
	require.Len(t, refs, 5)
	assert.NotEqual(t, refs[1].Part, refs[2].Part)
}

// TestStreamErrorMessageRead: an error a chat stream carries mid-stream
// has its message read, whole (a CitationPart), counting no generated
// token; its type and code are not text.
func TestStreamErrorMessageRead(t *testing.T) {
	t.Parallel()
	data := []byte(`{"error":{"message":"Bad value 'x'","type":"server_error","param":null,"code":"overloaded"}}`)
	st := openai.NewStreamState(openai.Chat, 0)
	for _, feed := range []func() ([]providers.TextRef, error){
		func() ([]providers.TextRef, error) { return st.Feed(nil, data) },
		func() ([]providers.TextRef, error) { return openai.DeltaTexts(nil, data, openai.Chat) },
	} {
		refs, err := feed()
		require.NoError(t, err)
		require.Len(t, refs, 1)
		txt, err := providers.DecodeText(nil, data, refs[0])
		require.NoError(t, err)
		assert.Equal(t, "Bad value 'x'", string(txt))
		assert.Equal(t, providers.TextToolArgs, refs[0].Kind)
		assert.True(t, openai.CitationPart(refs[0].Part))
	}
	assert.Zero(t, st.Counted())
	refs, err := openai.DeltaTexts(nil, []byte(`{"error":"plain"}`), openai.Chat)
	require.NoError(t, err)
	require.Len(t, refs, 1, "an error as a string is read too")
	assert.True(t, openai.CitationPart(refs[0].Part))
	refs, err = openai.DeltaTexts(nil, []byte(`{"error":null}`), openai.Chat)
	require.NoError(t, err)
	assert.Empty(t, refs)
}
