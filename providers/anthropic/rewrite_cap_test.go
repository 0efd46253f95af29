package anthropic

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRewriteLowersMaxTokens: the budget clamp on the Messages endpoint
// (translated requests: hub.TestOptionsCap).
func TestRewriteLowersMaxTokens(t *testing.T) {
	t.Parallel()
	got, err := RewriteRequest(nil, []byte(`{"model":"c","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]}`),
		Rewrite{MaxTokensLimit: 70, DefaultMaxTokens: 70})
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"c","max_tokens":70,"messages":[{"role":"user","content":"hi"}]}`, string(got))

	got, err = RewriteRequest(nil, []byte(`{"model":"c","max_tokens":40,"messages":[]}`), Rewrite{MaxTokensLimit: 70})
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"c","max_tokens":40,"messages":[]}`, string(got))

}
