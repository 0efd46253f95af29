package openai

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRewriteLowersCaps: the budget clamp lowers every cap field above
// MaxTokensLimit, leaves caps below it alone and adds the default to a
// request without one.
func TestRewriteLowersCaps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ep   Endpoint
		body string
		opt  Rewrite
		want string
	}{
		{"chat both fields", Chat, `{"model":"m","max_tokens":900,"max_completion_tokens":4000,"messages":[]}`,
			Rewrite{MaxTokensLimit: 300, DefaultMaxTokens: 300},
			`{"model":"m","max_tokens":300,"max_completion_tokens":300,"messages":[]}`},
		{"chat below the limit", Chat, `{"model":"m","max_tokens":20,"messages":[]}`,
			Rewrite{MaxTokensLimit: 300, DefaultMaxTokens: 300},
			`{"model":"m","max_tokens":20,"messages":[]}`},
		{"chat without a cap", Chat, `{"model":"m","messages":[]}`,
			Rewrite{MaxTokensLimit: 300, DefaultMaxTokens: 300},
			`{"model":"m","messages":[],"max_completion_tokens":300}`},
		{"chat null cap", Chat, `{"model":"m","max_completion_tokens":null,"messages":[]}`,
			Rewrite{MaxTokensLimit: 300, DefaultMaxTokens: 300},
			`{"model":"m","max_completion_tokens":300,"messages":[]}`},
		{"responses", Responses, `{"model":"m","max_output_tokens":5000,"input":"hi"}`,
			Rewrite{MaxTokensLimit: 12, DefaultMaxTokens: 12},
			`{"model":"m","max_output_tokens":12,"input":"hi"}`},
		{"completions", Completions, `{"model":"m","max_tokens":5000,"prompt":"hi"}`,
			Rewrite{MaxTokensLimit: 12, DefaultMaxTokens: 12},
			`{"model":"m","max_tokens":12,"prompt":"hi"}`},
	}
	for _, tc := range tests {
		got, err := RewriteRequest(nil, []byte(tc.body), tc.ep, tc.opt)
		require.NoError(t, err, tc.name)
		assert.JSONEq(t, tc.want, string(got), tc.name)
		parsed, err := ParseRequest(got, tc.ep)
		require.NoError(t, err, tc.name)
		if tc.opt.MaxTokensLimit > 0 {
			assert.LessOrEqual(t, parsed.MaxTokens, tc.opt.MaxTokensLimit, tc.name)
		}
	}
}
