package openai_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

func TestParseRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		endpoint openai.Endpoint
		body     string
		want     openai.Request
		err      error
	}{
		{
			name:     "chat minimal",
			endpoint: openai.Chat,
			body:     `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`,
			want:     openai.Request{Model: "gpt-4o", N: 1, Messages: 1},
		},
		{
			name:     "chat stream with usage and caps",
			endpoint: openai.Chat,
			body:     `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"max_tokens":100,"max_completion_tokens":300,"n":2,"messages":[]}`,
			want:     openai.Request{Model: "gpt-4o", Stream: true, HasStreamOptions: true, IncludeUsage: true, MaxTokens: 300, N: 2},
		},
		{
			name:     "chat nulls",
			endpoint: openai.Chat,
			body:     `{"model":"m","stream":null,"stream_options":null,"max_tokens":null,"n":null,"messages":[]}`,
			want:     openai.Request{Model: "m", N: 1},
		},
		{
			name:     "stream options without usage",
			endpoint: openai.Chat,
			body:     `{"model":"m","stream":true,"stream_options":{"include_obfuscation":false},"messages":[]}`,
			want:     openai.Request{Model: "m", Stream: true, HasStreamOptions: true, N: 1},
		},
		{name: "escaped model", endpoint: openai.Chat, body: `{"mod\u0065l":"gpt-4o","messages":[]}`, err: providers.ErrVariantKey},
		{name: "upper-case model", endpoint: openai.Chat, body: `{"model":"a","MODEL":"b","messages":[]}`, err: providers.ErrVariantKey},
		{name: "Kelvin sign folds to k", endpoint: openai.Chat, body: "{\"model\":\"a\",\"max_to\u212aens\":9,\"messages\":[]}", err: providers.ErrVariantKey},
		{name: "long s folds to s", endpoint: openai.Chat, body: "{\"model\":\"a\",\"\u017ftream\":true}", err: providers.ErrVariantKey},
		{name: "mixed case messages", endpoint: openai.Chat, body: `{"model":"a","Messages":[]}`, err: providers.ErrVariantKey},
		{name: "mixed case content", endpoint: openai.Chat, body: `{"model":"a","messages":[{"role":"user","Content":"x"}]}`, err: providers.ErrVariantKey},
		{name: "duplicate content", endpoint: openai.Chat, body: `{"model":"a","messages":[{"role":"user","content":"x","content":"y"}]}`, err: providers.ErrDupField},
		{name: "mixed case prompt", endpoint: openai.Completions, body: `{"model":"a","PROMPT":"x"}`, err: providers.ErrVariantKey},
		{name: "mixed case input", endpoint: openai.Embeddings, body: `{"model":"a","Input":"x"}`, err: providers.ErrVariantKey},
		{name: "mixed case input responses", endpoint: openai.Responses, body: `{"model":"a","inPut":"x"}`, err: providers.ErrVariantKey},
		{name: "escaped stream_options key", endpoint: openai.Chat, body: `{"model":"a","stream_options":{"include_usag\u0065":true}}`, err: providers.ErrVariantKey},
		{name: "unknown key kept", endpoint: openai.Chat, body: `{"model":"a","Temperature_X":1}`, want: openai.Request{Model: "a", N: 1}},
		{
			name:     "completions best_of",
			endpoint: openai.Completions,
			body:     `{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi","max_tokens":16,"n":2,"best_of":5}`,
			want:     openai.Request{Model: "gpt-3.5-turbo-instruct", MaxTokens: 16, N: 5},
		},
		{
			name:     "embeddings",
			endpoint: openai.Embeddings,
			body:     `{"model":"text-embedding-3-small","input":["a","b"]}`,
			want:     openai.Request{Model: "text-embedding-3-small", N: 1},
		},
		{
			name:     "responses",
			endpoint: openai.Responses,
			body:     `{"model":"o4-mini","input":"hi","instructions":"be brief","max_output_tokens":500,"stream":true,"previous_response_id":"resp_1"}`,
			want:     openai.Request{Model: "o4-mini", Stream: true, MaxTokens: 500, N: 1, Messages: 2, Stateful: true},
		},
		{
			name:     "max_tokens ignored on responses",
			endpoint: openai.Responses,
			body:     `{"model":"m","input":"x","max_tokens":5}`,
			want:     openai.Request{Model: "m", N: 1, Messages: 1},
		},
		{name: "duplicate model", endpoint: openai.Chat, body: `{"model":"a","messages":[],"model":"b"}`, err: providers.ErrDupField},
		{name: "duplicate messages", endpoint: openai.Chat, body: `{"messages":[],"messages":[]}`, err: providers.ErrDupField},
		{name: "duplicate via escape", endpoint: openai.Chat, body: `{"model":"a","m\u006fdel":"b"}`, err: providers.ErrVariantKey},
		{name: "model not a string", endpoint: openai.Chat, body: `{"model":5}`, err: providers.ErrType},
		{name: "stream not a bool", endpoint: openai.Chat, body: `{"stream":"yes"}`, err: providers.ErrType},
		{name: "max_tokens fraction", endpoint: openai.Chat, body: `{"max_tokens":1.5}`, err: providers.ErrType},
		{name: "negative max_tokens", endpoint: openai.Chat, body: `{"max_tokens":-1}`, err: openai.ErrNegative},
		{name: "messages not array", endpoint: openai.Chat, body: `{"messages":{}}`, err: providers.ErrType},
		{name: "not an object", endpoint: openai.Chat, body: `[1]`, err: providers.ErrType},
		{name: "malformed", endpoint: openai.Chat, body: `{"model":"a",}`, err: providers.ErrSyntax},
		{name: "truncated", endpoint: openai.Chat, body: `{"model":"a","messages":[{"role":"user","content":"hi`, err: providers.ErrSyntax},
		{name: "trailing data", endpoint: openai.Chat, body: `{"model":"a"}{}`, err: providers.ErrSyntax},
		{name: "bad endpoint", endpoint: 0, body: `{}`, err: openai.ErrEndpoint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := openai.ParseRequest([]byte(tc.body), tc.endpoint)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Positive(t, got.PromptEstimate)
			assert.GreaterOrEqual(t, got.PromptBound, got.PromptEstimate, "the guaranteed bound is below the estimate")
			got.PromptEstimate, got.PromptBound = 0, 0
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseRequestEstimate(t *testing.T) {
	t.Parallel()
	text := "Summarize the attached quarterly report in three bullet points."
	textTokens := providers.EstimateTokens([]byte(text))
	cases := []struct {
		name     string
		endpoint openai.Endpoint
		body     string
		want     int64
	}{
		{
			name:     "chat text",
			endpoint: openai.Chat,
			body:     `{"model":"m","messages":[{"role":"user","content":"` + text + `"}]}`,
			want:     providers.EstimateRequest(textTokens, 1),
		},
		{
			name:     "chat image part",
			endpoint: openai.Chat,
			body:     `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"` + text + `"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`,
			want:     providers.EstimateRequest(textTokens+providers.TokensPerImage, 1),
		},
		{
			name:     "embeddings token ids count one each",
			endpoint: openai.Embeddings,
			body:     `{"model":"m","input":[[1,2,3],[4]]}`,
			want:     4,
		},
		{
			name:     "tools priced by their JSON",
			endpoint: openai.Chat,
			body:     `{"model":"m","messages":[],"tools":[{"type":"function","function":{"name":"f"}}]}`,
			want:     providers.EstimateRequest(providers.EstimateTokens([]byte(`[{"type":"function","function":{"name":"f"}}]`)), 0),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := openai.ParseRequest([]byte(tc.body), tc.endpoint)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.PromptEstimate)
		})
	}
}

func TestOutputCap(t *testing.T) {
	t.Parallel()
	assert.Equal(t, int64(0), openai.Request{N: 3}.OutputCap())
	assert.Equal(t, int64(300), openai.Request{MaxTokens: 100, N: 3}.OutputCap())
	assert.Equal(t, int64(100), openai.Request{MaxTokens: 100}.OutputCap())
}

func TestEndpointForPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		path string
		want openai.Endpoint
	}{
		{"/v1/chat/completions", openai.Chat},
		{"/openai/v1/chat/completions/", openai.Chat},
		{"/v1/completions", openai.Completions},
		{"/v1/embeddings", openai.Embeddings},
		{"/v1/responses", openai.Responses},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			got, err := openai.EndpointForPath(tc.path)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.NotEqual(t, "unknown", got.String())
		})
	}
	_, err := openai.EndpointForPath("/v1/models")
	assert.ErrorIs(t, err, openai.ErrEndpoint)
}

func TestParseRequestBounds(t *testing.T) {
	t.Parallel()
	msgs := strings.Repeat(`{"role":"user","content":"x"},`, providers.MaxMessages)
	body := `{"model":"m","messages":[` + msgs + `{"role":"user","content":"last"}]}`
	_, err := openai.ParseRequest([]byte(body), openai.Chat)
	assert.ErrorIs(t, err, providers.ErrTooLarge)

	parts := strings.Repeat(`{"type":"text","text":"x"},`, providers.MaxTexts)
	body = `{"model":"m","messages":[{"role":"user","content":[` + parts + `{"type":"text","text":"y"}]}]}`
	_, err = openai.ParseRequest([]byte(body), openai.Chat)
	assert.ErrorIs(t, err, providers.ErrTooLarge)

	deep := strings.Repeat("[", providers.MaxDepth+1) + strings.Repeat("]", providers.MaxDepth+1)
	_, err = openai.ParseRequest([]byte(`{"model":"m","metadata":`+deep+`}`), openai.Chat)
	assert.ErrorIs(t, err, providers.ErrDepth)
}
