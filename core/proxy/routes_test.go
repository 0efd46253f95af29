package proxy

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// TestRouteVariantPromptBound: a provider entry's own prompts count in
// the guaranteed prompt bound as in the estimate, or a clamp near the end
// of a budget would grant more output than fits.
func TestRouteVariantPromptBound(t *testing.T) {
	t.Parallel()
	prompts := []policy.Message{{Role: "system", Content: "Answer in French."}, {Role: "system", Content: "Be brief!!!!"}}
	v, err := (&Server{}).routeVariant(&tokenEntry{}, prompts, nil, false)
	require.NoError(t, err)
	want := providers.MessageBound(prompts[0].Content) + providers.MessageBound(prompts[1].Content)
	require.Equal(t, want, v.promptBound)
	require.Positive(t, v.promptEstimate)
}
