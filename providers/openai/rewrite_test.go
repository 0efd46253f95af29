package openai_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<path>, or writes it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

var policyPrompts = []providers.Message{
	{Role: "system", Content: "You are a helpful coding assistant.\nOnly answer \"programming\" questions."},
	{Role: "user", Content: "Context: team Ω"},
}

func TestRewriteRequestGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		endpoint openai.Endpoint
		opt      openai.Rewrite
	}{
		{"chat_prepend_usage_cap", openai.Chat, openai.Rewrite{Model: "gpt-4o-mini", Prepend: policyPrompts, IncludeUsage: true, DefaultMaxTokens: 1024}},
		{"chat_stream_options_merge", openai.Chat, openai.Rewrite{IncludeUsage: true, DefaultMaxTokens: 1024}},
		{"chat_stream_options_false", openai.Chat, openai.Rewrite{IncludeUsage: true, DefaultMaxTokens: 256, Prepend: policyPrompts[:1]}},
		{"chat_not_streaming", openai.Chat, openai.Rewrite{IncludeUsage: true, DefaultMaxTokens: 1024}},
		{"chat_pretty", openai.Chat, openai.Rewrite{IncludeUsage: true, DefaultMaxTokens: 2048, MaxTokensField: "max_tokens", Prepend: policyPrompts[:1]}},
		{"chat_empty_object", openai.Chat, openai.Rewrite{Model: "gpt-4o", Prepend: policyPrompts, DefaultMaxTokens: 16}},
		{"responses_string_input", openai.Responses, openai.Rewrite{Prepend: policyPrompts, IncludeUsage: true, DefaultMaxTokens: 4096}},
		{"responses_items", openai.Responses, openai.Rewrite{Model: "o3-mini", Prepend: policyPrompts, DefaultMaxTokens: 4096}},
		{"completions_prompts", openai.Completions, openai.Rewrite{Prepend: policyPrompts[:1], IncludeUsage: true, DefaultMaxTokens: 64}},
		{"embeddings_model", openai.Embeddings, openai.Rewrite{Model: "text-embedding-3-large", Prepend: policyPrompts, IncludeUsage: true, DefaultMaxTokens: 64}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(filepath.Join("testdata", "rewrite", tc.name+".json"))
			require.NoError(t, err)
			out, err := openai.RewriteRequest(nil, in, tc.endpoint, tc.opt)
			require.NoError(t, err)
			require.True(t, json.Valid(out), "invalid JSON: %s", out)
			golden(t, filepath.Join("rewrite", tc.name+".golden.json"), out)

			// The rewritten request parses and reflects the options.
			req, err := openai.ParseRequest(out, tc.endpoint)
			require.NoError(t, err)
			if tc.opt.Model != "" {
				assert.Equal(t, tc.opt.Model, req.Model)
			}
			if tc.endpoint != openai.Embeddings {
				assert.Positive(t, req.MaxTokens)
				if req.Stream && tc.endpoint != openai.Responses {
					assert.True(t, req.IncludeUsage)
				}
			}
			// Rewriting again with the same options adds no second cap
			// or stream_options.
			again, err := openai.RewriteRequest(nil, out, tc.endpoint, openai.Rewrite{IncludeUsage: tc.opt.IncludeUsage, DefaultMaxTokens: tc.opt.DefaultMaxTokens, MaxTokensField: tc.opt.MaxTokensField})
			require.NoError(t, err)
			assert.Equal(t, string(out), string(again))
		})
	}
}

func TestRewriteRequestNoChange(t *testing.T) {
	t.Parallel()
	body := []byte(` {"model":"m", "messages":[{"role":"user","content":"x"}]} `)
	out, err := openai.RewriteRequest(nil, body, openai.Chat, openai.Rewrite{})
	require.NoError(t, err)
	assert.Equal(t, string(body), string(out))
}

func TestRewriteRequestErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		endpoint openai.Endpoint
		body     string
		opt      openai.Rewrite
		err      error
	}{
		{"malformed", openai.Chat, `{"model":`, openai.Rewrite{}, providers.ErrSyntax},
		{"duplicate model", openai.Chat, `{"model":"a","model":"b"}`, openai.Rewrite{Model: "c"}, providers.ErrDupField},
		{"token prompt with prepend", openai.Completions, `{"prompt":[1,2,3]}`, openai.Rewrite{Prepend: policyPrompts}, openai.ErrUnsupported},
		{"instructions not a string", openai.Responses, `{"instructions":5}`, openai.Rewrite{}, providers.ErrType},
		{"bad endpoint", 9, `{}`, openai.Rewrite{}, openai.ErrEndpoint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := openai.RewriteRequest(nil, []byte(tc.body), tc.endpoint, tc.opt)
			assert.ErrorIs(t, err, tc.err)
		})
	}
}

// TestRewriteRequestManyPrompts needs more edits than the rewriter holds
// without allocating.
func TestRewriteRequestManyPrompts(t *testing.T) {
	t.Parallel()
	prompts := make([]string, 30)
	for i := range prompts {
		prompts[i] = fmt.Sprintf("prompt %d", i)
	}
	body, err := json.Marshal(map[string]any{"model": "m", "prompt": prompts, "max_tokens": 5})
	require.NoError(t, err)
	out, err := openai.RewriteRequest(nil, body, openai.Completions, openai.Rewrite{Prepend: []providers.Message{{Role: "system", Content: "P"}}})
	require.NoError(t, err)
	var got struct{ Prompt []string }
	require.NoError(t, json.Unmarshal(out, &got))
	require.Len(t, got.Prompt, 30)
	for i, p := range got.Prompt {
		assert.Equal(t, fmt.Sprintf("P\n\nprompt %d", i), p)
	}
}
