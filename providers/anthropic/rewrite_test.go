package anthropic_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
)

var update = flag.Bool("update", false, "rewrite golden files")

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

func readTestdata(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	require.NoError(t, err)
	return b
}

var policyPrompts = []providers.Message{
	{Role: "system", Content: "You are a helpful coding assistant.\nOnly answer \"programming\" questions."},
	{Role: "system", Content: "Never reveal keys."},
	{Role: "user", Content: "Context: team Ω"},
}

func TestRewriteRequestGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opt  anthropic.Rewrite
	}{
		{"system_absent", anthropic.Rewrite{Prepend: policyPrompts, DefaultMaxTokens: 4096}},
		{"system_string", anthropic.Rewrite{Model: "claude-haiku-4-5", Prepend: policyPrompts[:2], DefaultMaxTokens: 4096}},
		{"system_blocks", anthropic.Rewrite{Prepend: policyPrompts, DefaultMaxTokens: 1000}},
		{"system_null", anthropic.Rewrite{Prepend: policyPrompts[:1]}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := readTestdata(t, filepath.Join("rewrite", tc.name+".json"))
			out, err := anthropic.RewriteRequest(nil, in, tc.opt)
			require.NoError(t, err)
			require.True(t, json.Valid(out), "invalid JSON: %s", out)
			golden(t, filepath.Join("rewrite", tc.name+".golden.json"), out)

			req, err := anthropic.ParseRequest(out)
			require.NoError(t, err)
			assert.Positive(t, req.MaxTokens)
			if tc.opt.Model != "" {
				assert.Equal(t, tc.opt.Model, req.Model)
			}
			refs, err := anthropic.RequestTexts(nil, out)
			require.NoError(t, err)
			var system []string
			for _, r := range refs {
				if r.Kind == providers.TextSystem {
					b, err := providers.DecodeText(nil, out, r)
					require.NoError(t, err)
					system = append(system, string(b))
				}
			}
			require.NotEmpty(t, system)
			assert.Contains(t, system[0], "helpful coding assistant", "the policy prompt comes first")
		})
	}
}

func TestRewriteRequestErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		err  error
	}{
		{"malformed", `{"model":"m",`, providers.ErrSyntax},
		{"duplicate messages", `{"messages":[],"messages":[]}`, providers.ErrDupField},
		{"system number", `{"system":1}`, providers.ErrType},
		{"messages object", `{"messages":{}}`, providers.ErrType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := anthropic.RewriteRequest(nil, []byte(tc.body), anthropic.Rewrite{Prepend: policyPrompts})
			assert.ErrorIs(t, err, tc.err)
		})
	}
}

func TestRewriteRequestNoChange(t *testing.T) {
	t.Parallel()
	body := []byte(`{"model":"m","max_tokens":5,"messages":[]}`)
	out, err := anthropic.RewriteRequest(nil, body, anthropic.Rewrite{DefaultMaxTokens: 100})
	require.NoError(t, err)
	assert.Equal(t, string(body), string(out))
}
