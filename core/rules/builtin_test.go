package rules

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// allBuiltinRules uses every built-in rule type, jailbreak included.
func allBuiltinRules() []policy.Rule {
	return []policy.Rule{
		{Name: "pii", Type: TypePII, Detect: []string{"email"}, Action: FindingMask},
		{Name: "re", Type: TypeRegex, Pattern: `secret-\d+`, Action: FindingMask},
		{Name: "kw", Type: TypeKeyword, Keywords: []string{"forbidden"}, Action: FindingWarn},
		{Name: "pg", Type: TypePromptGuard, Action: FindingLog},
		{Name: "jb", Type: policy.RuleTypeJailbreak, Action: FindingLog},
	}
}

// TestBuiltinsShareOneModule guards the memory of the built-in rules: every
// built-in rule type of every policy runs on one compiled module with one
// pool (each Go-built module is about 12 MB of compiled code, each warm
// instance MiBs), and each rule still behaves as its type.
func TestBuiltinsShareOneModule(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, Config{PoolSize: 2})
	rs, err := h.Compile(allBuiltinRules(), nil)
	require.NoError(t, err)
	other, err := h.Compile([]policy.Rule{{Name: "kw2", Type: TypeKeyword, Keywords: []string{"x"}}}, nil)
	require.NoError(t, err)

	h.mu.Lock()
	mods := len(h.modules)
	h.mu.Unlock()
	assert.Equal(t, 1, mods, "one compiled module for every built-in type")
	mod := rs.rules[0].mod
	for _, r := range append(rs.rules, other.rules...) {
		assert.Same(t, mod, r.mod, r.name)
	}
	assert.LessOrEqual(t, mod.pool.live(), 2, "one pool of at most PoolSize instances")
	st := h.Plugins()
	require.Len(t, st, 1)
	assert.Equal(t, builtinModuleName, st[0].Name)
	assert.True(t, st[0].Ready)

	var v Verdict
	require.NoError(t, rs.Check(context.Background(), Input, []Text{
		{Data: []byte("mail jane@example.com about secret-42, forbidden topic"), Role: "user"},
	}, &v))
	assert.Equal(t, Mask, v.Action)
	byRule := map[string][]string{}
	for _, f := range v.Findings {
		byRule[f.Rule] = append(byRule[f.Rule], f.Detector)
	}
	assert.Equal(t, map[string][]string{"pii": {"email"}, "re": {"regex"}, "kw": {"keyword"}}, byRule)

	// The observer and errors name the rule's type, not the shared module.
	assert.Equal(t, TypePII, rs.rules[0].plugin)
	assert.Equal(t, TypePromptGuard, rs.rules[4].plugin)
}

// TestBuiltinRefusedConfig: the built-in module refuses what its type's
// plugin refuses, and a type it does not serve. (Compile validates the
// built-in types' fields before the plugin sees them, so the module is
// configured directly here.)
func TestBuiltinRefusedConfig(t *testing.T) {
	t.Parallel()
	h := sharedHost(t)
	m, err := h.builtin()
	require.NoError(t, err)
	for _, tc := range []struct {
		name, typ string
		cfg       []string // abi fields
		json      string   // or a raw config
		want      string
	}{
		{name: "keyword empty", typ: TypeKeyword, cfg: []string{"case_sensitive", "true"}, want: "keywords is empty"},
		{name: "unknown field", typ: TypeRegex, cfg: []string{"pattern", "a", "x", "1"}, want: `unknown field "x"`},
		{name: "json", typ: TypePII, json: `{"detect":["email"]}`, want: "malformed"},
		{name: "threshold", typ: TypePromptGuard, cfg: []string{"threshold", "NaN"}, want: "threshold must be in (0,1]"},
		{name: "unknown type", typ: "nope", want: `unknown rule type "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := abi.EncodeList(nil, tc.cfg)
			if tc.json != "" {
				raw = []byte(tc.json)
			}
			c := m.config(abi.AppendTypedConfig(nil, tc.typ, raw))
			err := m.prepare(context.Background(), c)
			require.ErrorIs(t, err, ErrBadRule)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
