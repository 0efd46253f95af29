package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveCompatPolicies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		policy  string
		model   string
		want    Resolved
		refused bool
	}{
		{
			name: "developer gpt-4o takes the first openai entry", policy: "developer.json", model: "gpt-4o",
			want: Resolved{Model: "gpt-4o", Provider: "openai", GroupIndex: 0, EntryIndex: 0, KeyEnv: "OPENAI_API_KEY",
				MaxTokens: 100000, Timeout: 60 * time.Second, BudgetKey: "openai/0"},
		},
		{
			name: "developer dated mini takes the regex entry", policy: "developer.json", model: "gpt-4o-mini-2024",
			want: Resolved{Model: "gpt-4o-mini-2024", Provider: "openai", GroupIndex: 0, EntryIndex: 1, KeyEnv: "OPENAI_API_KEY",
				MaxTokens: 200000, Timeout: 60 * time.Second, BudgetKey: "openai/1"},
		},
		{
			name: "developer claude has no entry budget", policy: "developer.json", model: "claude-sonnet-4-6",
			want: Resolved{Model: "claude-sonnet-4-6", Provider: "anthropic", GroupIndex: 1, EntryIndex: 0, KeyEnv: "ANTHROPIC_API_KEY",
				Timeout: 60 * time.Second},
		},
		{name: "developer llama refused", policy: "developer.json", model: "llama-3.1-70b", refused: true},
		{
			name: "lead gpt-4o uses the entry timeout", policy: "lead-engineer.json", model: "gpt-4o",
			want: Resolved{Model: "gpt-4o", Provider: "openai", GroupIndex: 0, EntryIndex: 0, KeyEnv: "OPENAI_API_KEY",
				MaxTokens: 500000, Timeout: 120 * time.Second, BudgetKey: "openai/0"},
		},
		{
			name: "lead o3-mini", policy: "lead-engineer.json", model: "o3-mini",
			want: Resolved{Model: "o3-mini", Provider: "openai", GroupIndex: 0, EntryIndex: 1, KeyEnv: "OPENAI_API_KEY",
				MaxTokens: 1000000, Timeout: 120 * time.Second, BudgetKey: "openai/1"},
		},
		{
			name: "lead llama goes to groq", policy: "lead-engineer.json", model: "llama-3.1-70b",
			want: Resolved{Model: "llama-3.1-70b", Provider: "groq", GroupIndex: 2, EntryIndex: 0, KeyEnv: "GROQ_API_KEY",
				Timeout: 120 * time.Second},
		},
		{
			name: "lead mistral", policy: "lead-engineer.json", model: "mistral-large",
			want: Resolved{Model: "mistral-large", Provider: "mistral", GroupIndex: 3, EntryIndex: 0, KeyEnv: "MISTRAL_API_KEY",
				Timeout: 120 * time.Second},
		},
		{name: "lead gemini refused", policy: "lead-engineer.json", model: "gemini-pro", refused: true},
		{
			name: "contractor gpt-4o-mini", policy: "contractor.json", model: "gpt-4o-mini",
			want: Resolved{Model: "gpt-4o-mini", GroupIndex: -1, EntryIndex: -1, KeyEnv: "OPENAI_API_KEY", Timeout: 30 * time.Second},
		},
		{name: "contractor gpt-3.5 refused", policy: "contractor.json", model: "gpt-3.5-turbo", refused: true},
		{
			name: "ci gpt-4o-mini", policy: "ci-pipeline.json", model: "gpt-4o-mini",
			want: Resolved{Model: "gpt-4o-mini", GroupIndex: -1, EntryIndex: -1, KeyEnv: "OPENAI_API_KEY", Timeout: 30 * time.Second},
		},
		{name: "ci gpt-4o refused", policy: "ci-pipeline.json", model: "gpt-4o", refused: true},
		{name: "ci dated mini refused", policy: "ci-pipeline.json", model: "gpt-4o-mini-2024", refused: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, tc.policy)
			got, err := p.Resolve(tc.model)
			assert.Equal(t, !tc.refused, p.AllowsModel(tc.model))
			if tc.refused {
				require.ErrorIs(t, err, ErrModelNotAllowed)
				assert.Contains(t, err.Error(), tc.model)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestResolveOverridesAndConstraints(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`{
		"base_key_env": "DEFAULT_KEY",
		"upstream_url": "https://default.example.com/v1",
		"model_regex": "^(gpt|local)",
		"timeout": 45,
		"providers": {
			"local": [{"upstream_url": "http://127.0.0.1:11434/v1", "model": "local-llm", "timeout": 300}],
			"anything": [{"max_tokens": 10}]
		}
	}`))
	require.NoError(t, err)

	cases := []struct {
		name    string
		model   string
		want    Resolved
		refused bool
	}{
		{
			name: "entry overrides url and timeout, inherits key", model: "local-llm",
			want: Resolved{Model: "local-llm", Provider: "local", GroupIndex: 0, EntryIndex: 0, KeyEnv: "DEFAULT_KEY",
				UpstreamURL: "http://127.0.0.1:11434/v1", Timeout: 300 * time.Second},
		},
		{
			name: "entry naming no model admits any model", model: "gpt-5",
			want: Resolved{Model: "gpt-5", Provider: "anything", GroupIndex: 1, EntryIndex: 0, KeyEnv: "DEFAULT_KEY",
				UpstreamURL: "https://default.example.com/v1", MaxTokens: 10, Timeout: 45 * time.Second, BudgetKey: "anything/0"},
		},
		{name: "top-level regex still applies", model: "claude-3", refused: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := p.Resolve(tc.model)
			if tc.refused {
				require.ErrorIs(t, err, ErrModelNotAllowed)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestResolveWithoutModelRestriction(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`{"max_tokens": 5}`))
	require.NoError(t, err)
	got, err := p.Resolve("whatever")
	require.NoError(t, err)
	assert.Equal(t, Resolved{Model: "whatever", GroupIndex: -1, EntryIndex: -1}, got)

	_, err = p.Resolve("")
	assert.ErrorIs(t, err, ErrNoModel)
	assert.False(t, p.AllowsModel(""))
}

func TestResolveUnvalidatedPolicy(t *testing.T) {
	t.Parallel()
	// Built in code and never validated: the regexp is not compiled, so the
	// entry admits nothing (fail closed), and the budget key is computed.
	p := &Policy{Providers: Providers{
		{Name: "a", Entries: []ProviderEntry{{ModelRegex: "^x"}}},
		{Name: "b", Entries: []ProviderEntry{{Model: "x1", MaxTokens: 3}}},
	}}
	got, err := p.Resolve("x1")
	require.NoError(t, err)
	assert.Equal(t, "b", got.Provider)
	assert.Equal(t, "b/0", got.BudgetKey)

	require.NoError(t, p.Validate())
	got, err = p.Resolve("x1")
	require.NoError(t, err)
	assert.Equal(t, "a", got.Provider)
}

func TestResolveDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, so regexp allocates")
	}
	p := mustParse(t, "lead-engineer.json")
	for _, model := range []string{"gpt-4o", "o4-mini", "claude-opus-4", "mistral-large"} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := p.Resolve(model); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, model)
	}
}

func TestHasRules(t *testing.T) {
	t.Parallel()
	outputOnly, err := Parse([]byte(`{"rules": [{"name": "k", "type": "keyword", "keywords": ["x"], "scope": "output"}]}`))
	require.NoError(t, err)
	cases := []struct {
		name   string
		policy *Policy
		scope  string
		want   bool
	}{
		{"both-scoped rule covers input", mustParse(t, "developer.json"), "input", true},
		{"both-scoped rule covers output", mustParse(t, "developer.json"), "output", true},
		{"no rules", mustParse(t, "ci-pipeline.json"), "input", false},
		{"output rule on input", outputOnly, "input", false},
		{"output rule on output", outputOnly, "output", true},
		{"unknown scope", mustParse(t, "developer.json"), "both", false},
		{"unvalidated empty scope means input", &Policy{Rules: []Rule{{Name: "a"}}}, "input", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.policy.HasRules(tc.scope))
		})
	}
}
