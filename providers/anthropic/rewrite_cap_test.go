package anthropic

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRewriteLowersMaxTokens: the budget clamp on the Messages endpoint and
// on OpenAI chat translated to Anthropic.
func TestRewriteLowersMaxTokens(t *testing.T) {
	t.Parallel()
	got, err := RewriteRequest(nil, []byte(`{"model":"c","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]}`),
		Rewrite{MaxTokensLimit: 70, DefaultMaxTokens: 70})
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"c","max_tokens":70,"messages":[{"role":"user","content":"hi"}]}`, string(got))

	got, err = RewriteRequest(nil, []byte(`{"model":"c","max_tokens":40,"messages":[]}`), Rewrite{MaxTokensLimit: 70})
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"c","max_tokens":40,"messages":[]}`, string(got))

	got, err = FromOpenAIChat(nil, []byte(`{"model":"c","max_completion_tokens":5000,"messages":[{"role":"user","content":"hi"}]}`),
		Rewrite{MaxTokensLimit: 70, DefaultMaxTokens: 70})
	require.NoError(t, err)
	r, err := ParseRequest(got)
	require.NoError(t, err)
	assert.Equal(t, int64(70), r.MaxTokens)
}
