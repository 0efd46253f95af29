package events

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		patterns []string
		typ      string
		want     bool
	}{
		{name: "nil list matches all", patterns: nil, typ: TokenCreated, want: true},
		{name: "empty list matches all", patterns: []string{}, typ: ServerStart, want: true},
		{name: "star matches all", patterns: []string{"*"}, typ: RuleMasked, want: true},
		{name: "exact", patterns: []string{BudgetExceeded}, typ: BudgetExceeded, want: true},
		{name: "exact miss", patterns: []string{BudgetExceeded}, typ: RateExceeded, want: false},
		{name: "prefix", patterns: []string{"token.*"}, typ: TokenExpired, want: true},
		{name: "prefix needs the dot", patterns: []string{"token.*"}, typ: "tokenx", want: false},
		{name: "prefix needs a suffix", patterns: []string{"token.*"}, typ: "token.", want: false},
		{name: "prefix is not the bare word", patterns: []string{"token.*"}, typ: "token", want: false},
		{name: "prefix miss", patterns: []string{"token.*"}, typ: RuleViolation, want: false},
		{name: "nested prefix", patterns: []string{"rule.*"}, typ: "rule.a.b", want: true},
		{name: "second pattern", patterns: []string{"rule.violation", "budget.exceeded"}, typ: BudgetExceeded, want: true},
		{name: "seed alert list", patterns: []string{"rule.violation", "budget.exceeded", "rate.exceeded", "token.expired"}, typ: TokenCreated, want: false},
		{name: "bare star suffix is not a prefix", patterns: []string{".*"}, typ: ".x", want: false},
		{name: "case sensitive", patterns: []string{"Token.*"}, typ: TokenCreated, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, Match(tc.patterns, tc.typ))
		})
	}
}

func TestValidPattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pattern string
		ok      bool
	}{
		{name: "star", pattern: "*", ok: true},
		{name: "exact", pattern: "token.created", ok: true},
		{name: "prefix", pattern: "token.*", ok: true},
		{name: "empty", pattern: "", ok: false},
		{name: "padded", pattern: " token.*", ok: false},
		{name: "glob without dot", pattern: "token*", ok: false},
		{name: "leading star", pattern: "*.created", ok: false},
		{name: "only dot star", pattern: ".*", ok: false},
		{name: "two stars", pattern: "to*en.*", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidPattern(tc.pattern)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrBadPattern)
		})
	}
}

func TestMatchAllocs(t *testing.T) {
	patterns := []string{"rule.violation", "token.*"}
	allocs := testing.AllocsPerRun(100, func() { Match(patterns, TokenUpdated) })
	assert.Zero(t, allocs)
}
