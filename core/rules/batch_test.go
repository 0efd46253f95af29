package rules

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
)

// batchHost serves testdata/guests/batch as the built-in module (trusted),
// whose keyword rules behave by their first keyword.
func batchHost(t *testing.T) *Host {
	t.Helper()
	wasm := guestWasm(t, "batch")
	// Failing rules break instances; under -race on a loaded machine their
	// replacements take long to build: generous bounds, so a slow refill
	// never turns into a rule failure on one side of a comparison.
	return newTestHost(t, Config{Builtins: fstest.MapFS{builtinModuleName + ".wasm": {Data: wasm}},
		PoolSize: 4, PoolWait: 2 * time.Minute, CallTimeout: time.Minute})
}

// verdictView is what a check decided, without the errors' causes.
func verdictView(v *Verdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "action=%v rule=%q failed=%v reason=%q\n", v.Action, v.Rule, v.Failed, v.Reason)
	for _, e := range v.Edits {
		fmt.Fprintf(&b, "edit %d [%d,%d) %q\n", e.Text, e.Start, e.End, e.Replacement)
	}
	for _, f := range v.Findings {
		fmt.Fprintf(&b, "finding %s %s %s %d [%d,%d)\n", f.Rule, f.Detector, f.Action, f.Text, f.Start, f.End)
	}
	for _, e := range v.Errors {
		fmt.Fprintf(&b, "error %s blocked=%v\n", e.Rule, e.Blocked)
	}
	return b.String()
}

// TestCheckManyMatchesOneByOne: built-in rules checked in one guest call
// decide exactly what one call per rule does, when a rule in the middle
// blocks, fails, panics, exits its instance or answers an out-of-range
// span; the neighbours of a failing rule keep their verdicts.
func TestCheckManyMatchesOneByOne(t *testing.T) {
	h := batchHost(t)
	texts := []Text{{Data: []byte("a secret here"), Role: "user"}, {Data: []byte("no match"), Role: "system"}, {Data: []byte("secret and secret"), Role: "user"}}
	rule := func(i int, mode, action, onError string) policy.Rule {
		return policy.Rule{Name: fmt.Sprintf("r%d-%s", i, mode), Type: TypeKeyword, Keywords: []string{mode}, Action: action, OnError: onError}
	}
	for _, tc := range []struct {
		name  string
		rules []policy.Rule
		want  Action
	}{
		{"masks", []policy.Rule{rule(0, "mask", "mask", ""), rule(1, "replace", "mask", ""), rule(2, "mask", "warn", "")}, Mask},
		{"block-after-masks", []policy.Rule{rule(0, "mask", "mask", ""), rule(1, "replace", "mask", ""), rule(2, "block", "fail", "")}, Block},
		{"block-first", []policy.Rule{rule(0, "block", "fail", ""), rule(1, "mask", "mask", "")}, Block},
		{"error-allowed", []policy.Rule{rule(0, "replace", "mask", ""), rule(1, "error", "mask", "allow"), rule(2, "mask", "mask", "")}, Mask},
		{"panic-allowed", []policy.Rule{rule(0, "replace", "mask", ""), rule(1, "panic", "mask", "allow"), rule(2, "mask", "mask", "")}, Mask},
		{"panic-blocks", []policy.Rule{rule(0, "replace", "mask", ""), rule(1, "panic", "mask", "block"), rule(2, "mask", "mask", "")}, Block},
		{"exit-allowed", []policy.Rule{rule(0, "mask", "mask", ""), rule(1, "exit", "mask", "allow"), rule(2, "replace", "mask", "")}, Mask},
		{"exit-blocks", []policy.Rule{rule(0, "mask", "mask", ""), rule(1, "exit", "mask", "block"), rule(2, "replace", "mask", "")}, Block},
		{"badspan-allowed", []policy.Rule{rule(0, "mask", "mask", ""), rule(1, "badspan", "mask", "allow"), rule(2, "replace", "mask", "")}, Mask},
	} {
		t.Run(tc.name, func(t *testing.T) {
			batched, err := h.Compile(tc.rules, nil)
			require.NoError(t, err)
			single, err := h.Compile(tc.rules, nil)
			require.NoError(t, err)
			single.oneByOne = true
			for range 3 { // again on the instances the failures left
				var vb, vs Verdict
				require.NoError(t, batched.Check(context.Background(), Input, texts, &vb))
				require.NoError(t, single.Check(context.Background(), Input, texts, &vs))
				assert.Equal(t, tc.want, vb.Action)
				assert.Equal(t, verdictView(&vs), verdictView(&vb))
			}
		})
	}
}

// TestBuiltinModuleChecksMany: the built-in module exports the batch call,
// so a policy's built-in rules cost one guest call per phase.
func TestBuiltinModuleChecksMany(t *testing.T) {
	for name, h := range map[string]*Host{"builtin": sharedHost(t), "batch": batchHost(t)} {
		t.Run(name, func(t *testing.T) {
			rs, err := h.Compile([]policy.Rule{{Name: "k", Type: TypeKeyword, Keywords: []string{"mask"}}}, nil)
			require.NoError(t, err)
			m := rs.rules[0].mod
			require.True(t, m.trusted)
			inst, err := m.pool.get(context.Background(), nopObserver{})
			require.NoError(t, err)
			defer m.pool.put(inst)
			assert.NotNil(t, inst.checkManyFn)
		})
	}
}

// TestBuiltinRulesNoTexts: a check with no texts at all (a request whose
// only content the rules cannot read) allows with no rule error: the
// built-in plugins' one host call over the texts finds nothing.
func TestBuiltinRulesNoTexts(t *testing.T) {
	rs, err := sharedHost(t).Compile(contractorRules(t), nil)
	require.NoError(t, err)
	for _, texts := range [][]Text{nil, {}} {
		for _, phase := range []Phase{Input, Output} {
			var v Verdict
			require.NoError(t, rs.Check(context.Background(), phase, texts, &v))
			assert.Equal(t, Allow, v.Action)
			assert.Empty(t, v.Errors)
		}
	}
}
