package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseOriginalSchema parses a policy written to the original
// project's schema with every construct it had beyond the seed policies.
func TestParseOriginalSchema(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "original-full.json")

	require.Len(t, p.Rules, 4)
	assert.Equal(t, Rule{Name: "rules[0]", Type: RuleTypeRegex, Pattern: "(?i)internal[-_ ]only", Action: ActionFail,
		Scope: ScopeInput, OnError: OnErrorBlock}, p.Rules[0], "legacy string form")
	assert.Equal(t, RuleTypeRegex, p.Rules[1].Type, "type defaults to regex")
	assert.Equal(t, "codename", p.Rules[1].Name)
	assert.Equal(t, "rules[2]", p.Rules[2].Name, "a rule without a name is named by its path")
	assert.Equal(t, []string{"ssn", "email"}, p.Rules[2].Detect, "detector names are case-insensitive")
	assert.Equal(t, Rule{Name: "jb", Type: RuleTypeJailbreak, Threshold: JailbreakThreshold, Action: ActionMask,
		Scope: ScopeInput, OnError: p.Rules[3].OnError}, p.Rules[3])

	assert.Equal(t, "openai", p.DefaultProvider)
	assert.Equal(t, []int{429, 529}, p.Retry.RetryOn)
	assert.Equal(t, map[string]string{"team": "platform", "cost_center": "cc-42"}, p.Metadata)
	assert.Equal(t, &Memory{Enabled: true, FilePath: "memory", FileName: "{date}/{token_hash}-{session_id}.md",
		MaxSizeMB: 10, CompressOld: true}, p.Memory)

	entry := p.Providers[0].Entries[0]
	assert.Equal(t, 90, entry.Timeout)
	assert.Equal(t, int64(4096), entry.MaxTokens)
	require.Len(t, entry.Rules, 2)
	assert.Equal(t, "providers.anthropic[0].rules[0]", entry.Rules[0].Name)
	assert.Equal(t, ActionFail, entry.Rules[0].Action)
	assert.Equal(t, OnErrorBlock, entry.Rules[1].OnError, "entry rules are normalized too")

	// Marshal writes the normalized form, which parses back to the same policy.
	out, err := p.Marshal()
	require.NoError(t, err)
	again, err := Parse(out)
	require.NoError(t, err, string(out))
	assert.Equal(t, p, again)
}

func TestRouteContent(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "original-full.json")

	claude, err := p.Resolve("claude-sonnet-4-6")
	require.NoError(t, err)
	assert.Equal(t, Resolved{Model: "claude-sonnet-4-6", Provider: "anthropic", GroupIndex: 0, EntryIndex: 0,
		KeyEnv: "ANTHROPIC_API_KEY", MaxTokens: 4096, Timeout: 90 * time.Second, BudgetKey: "anthropic/0"}, claude)
	assert.True(t, p.HasRouteContent(claude))
	assert.Equal(t, []Message{{Role: "system", Content: "Anthropic prompt."}, {Role: "system", Content: "Global prompt."}},
		p.RoutePrompts(claude), "provider prompts come before the policy's")
	var names []string
	for _, r := range p.RouteRules(claude) {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"rules[0]", "codename", "rules[2]", "jb", "providers.anthropic[0].rules[0]", "no-pw"}, names,
		"provider rules run after the policy's")
	assert.Len(t, p.Rules, 4, "the policy's own rules are not modified")

	gpt, err := p.Resolve("gpt-4o")
	require.NoError(t, err)
	assert.False(t, p.HasRouteContent(gpt))
	assert.Equal(t, p.Prompts, p.RoutePrompts(gpt))
	assert.Len(t, p.RouteRules(gpt), 4)
}

func TestDefaultProvider(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`{"default_provider": "anthropic"}`))
	require.NoError(t, err)
	r, err := p.Resolve("any-model")
	require.NoError(t, err)
	assert.Equal(t, "anthropic", r.Provider)
	assert.Equal(t, -1, r.EntryIndex)
	assert.Equal(t, "", r.BudgetKey)

	// With providers, the list is an allow-list: an unmatched model is
	// refused rather than sent to the default provider.
	p, err = Parse([]byte(`{"default_provider": "openai", "providers": {"anthropic": [{"model_regex": "^claude"}]}}`))
	require.NoError(t, err)
	_, err = p.Resolve("gpt-4o")
	require.ErrorIs(t, err, ErrModelNotAllowed)
}

// TestModelAndModelRegex: the original checked both at the top level and
// took either in a provider entry.
func TestModelAndModelRegex(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`{"model": "gpt-4o", "model_regex": "^gpt"}`))
	require.NoError(t, err)
	assert.True(t, p.AllowsModel("gpt-4o"))
	assert.False(t, p.AllowsModel("gpt-4o-mini"), "the top level needs both")

	p, err = Parse([]byte(`{"providers": {"x": [{"model": "llama-3", "model_regex": "^gpt"}]}}`))
	require.NoError(t, err)
	assert.True(t, p.AllowsModel("llama-3"))
	assert.True(t, p.AllowsModel("gpt-4o"), "an entry takes either")
	assert.False(t, p.AllowsModel("claude"))
}
