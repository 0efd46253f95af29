package test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBudgetEdgesFallbackWithoutRoom: when a fallback is refused its
// reservation, a later fallback on the same budget must reserve again,
// not go upstream unchecked and be settled as nothing.
func TestBudgetEdgesFallbackWithoutRoom(t *testing.T) {
	t.Parallel()
	rp := startRoleProxy(t)
	tok, _ := rp.token("developer", func(m map[string]any) {
		m["retry"] = map[string]any{"max_retries": 0, "fallbacks": []any{"gpt-4o-mini", "gpt-4o-mini"},
			"retry_on": []any{503}}
		// gpt-4o-mini's entry has no room for any prompt.
		m["providers"].(map[string]any)["openai"].([]any)[1].(map[string]any)["max_tokens"] = 1
	})
	rp.start()
	rp.fake.Reset()
	require.NoError(t, rp.fake.Script(limScripted("gpt-4o", 503)...))
	r := rp.chat(tok, "gpt-4o", "hello", 5)
	assert.NotEqual(t, 200, r.Status, "a fallback without room in its budget was served: %s", r.Body)
	assert.Equal(t, []string{"gpt-4o"}, rp.upstreamModels(), "only the first attempt may reach the provider")
}
