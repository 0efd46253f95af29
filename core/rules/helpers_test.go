package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
)

// contractorRules reads the rules of the seed's contractor policy.
func contractorRules(t testing.TB) []policy.Rule {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "compat", "distributed-team", "policies", "contractor.json"))
	if err != nil {
		raw, err = os.ReadFile(filepath.Join("testdata", "contractor.json"))
	}
	require.NoError(t, err)
	var p struct {
		Rules []policy.Rule `json:"rules"`
	}
	require.NoError(t, json.Unmarshal(raw, &p))
	require.Len(t, p.Rules, 3)
	return p.Rules
}

// contractorChat is a 2 KB coding-assistant chat holding an e-mail address
// and a phone number.
func contractorChat(t testing.TB) []Text {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "contractor_chat.json"))
	require.NoError(t, err)
	var ms []struct{ Role, Kind, Content string }
	require.NoError(t, json.Unmarshal(raw, &ms))
	var out []Text
	for _, m := range ms {
		out = append(out, Text{Data: []byte(m.Content), Role: m.Role, Kind: m.Kind})
	}
	return out
}

// withoutPII is the chat with its contact line removed: the allow path.
func withoutPII(texts []Text) []Text {
	out := make([]Text, len(texts))
	copy(out, texts)
	last := &out[len(out)-1]
	last.Data = []byte("Thanks, that makes sense. The trigger just does an upsert into customer_totals. I will try the sorted batch update first and measure again with the same load generator.")
	return out
}
