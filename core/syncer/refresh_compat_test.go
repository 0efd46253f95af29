package syncer

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestUsesPluginOriginalForms: legacy string rules beside a wasm rule, and
// wasm rules inside provider entries, still name their plugin.
func TestUsesPluginOriginalForms(t *testing.T) {
	t.Parallel()
	names := map[string]bool{"guard": true}
	cases := []struct {
		policy string
		want   bool
	}{
		{`{"rules": ["(?i)secret", {"name": "g", "type": "wasm", "plugin": "guard"}]}`, true},
		{`{"providers": {"openai": [{"rules": ["x", {"type": "wasm", "plugin": "guard"}]}]}}`, true},
		{`{"rules": ["(?i)secret"], "providers": {"openai": [{"rules": [{"type": "wasm", "plugin": "other"}]}]}}`, false},
		{`{"max_tokens": 5}`, false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, usesPlugin(json.RawMessage(tc.policy), names), tc.policy)
	}
}
