package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
)

func behaveRule(t testing.TB, wasm []byte, mode, onError string) policy.Rule {
	cfg, err := json.Marshal(map[string]string{"mode": mode})
	require.NoError(t, err)
	return policy.Rule{Name: "behave-" + mode, Type: TypeWASM, Plugin: "behave", SHA256: Sum(wasm), Config: cfg, Action: "mask", OnError: onError}
}

func behaveSource(wasm []byte) func(string, string) ([]byte, error) {
	return func(string, string) ([]byte, error) { return wasm, nil }
}

// TestSandboxMisbehaviour: runaway guests are stopped within their deadline
// and recycled, on_error decides, and the next call on the module works.
func TestSandboxMisbehaviour(t *testing.T) {
	t.Parallel()
	wasm := guestWasm(t, "behave")
	h := newTestHost(t, Config{CallTimeout: 300 * time.Millisecond, MemoryLimitPages: 256, PoolSize: 1})
	okRS, err := h.Compile([]policy.Rule{behaveRule(t, wasm, "replace", "")}, behaveSource(wasm))
	require.NoError(t, err)
	texts := []Text{{Data: []byte("a secret here"), Role: "user"}}

	for _, tc := range []struct {
		name    string
		mode    string
		maxTime time.Duration
		errText string
	}{
		{name: "infinite loop", mode: "loop", maxTime: 3 * time.Second, errText: "deadline"},
		{name: "unbounded memory", mode: "grow", maxTime: 10 * time.Second},
		{name: "exit", mode: "exit", maxTime: 5 * time.Second},
		{name: "error result", mode: "error", maxTime: 5 * time.Second, errText: "boom"},
		{name: "panic is recovered by the sdk", mode: "panic", maxTime: 5 * time.Second, errText: "panicked"},
		{name: "span out of range", mode: "badspan", maxTime: 5 * time.Second, errText: "out of range"},
	} {
		for _, onError := range []string{"block", "allow"} {
			t.Run(tc.name+"/on_error="+onError, func(t *testing.T) {
				rs, err := h.Compile([]policy.Rule{behaveRule(t, wasm, tc.mode, onError)}, behaveSource(wasm))
				require.NoError(t, err)
				var v Verdict
				start := time.Now()
				require.NoError(t, rs.Check(context.Background(), Input, texts, &v))
				assert.Less(t, time.Since(start), tc.maxTime)
				require.NotEmpty(t, v.Findings)
				assert.Equal(t, FindingError, v.Findings[len(v.Findings)-1].Action)
				// The cause is for the operator (v.Errors), never in the
				// client's reason.
				require.Len(t, v.Errors, 1)
				assert.Equal(t, "behave", v.Errors[0].Plugin)
				assert.Contains(t, v.Errors[0].Err.Error(), tc.errText)
				assert.Equal(t, onError == "block", v.Errors[0].Blocked)
				if onError == "block" {
					assert.Equal(t, Block, v.Action)
					assert.True(t, v.Failed)
					assert.Equal(t, `content rule "behave-`+tc.mode+`" could not be checked`, v.Reason)
				} else {
					assert.Equal(t, Allow, v.Action)
				}
				// The module still serves: the broken instance was replaced.
				require.Eventually(t, func() bool {
					require.NoError(t, okRS.Check(context.Background(), Input, texts, &v))
					return v.Action == Mask
				}, 20*time.Second, 10*time.Millisecond)
				assert.Equal(t, "a *** here", string(v.Apply(0, texts[0].Data, nil)))
			})
		}
	}
}

// TestSandboxNoWorld: a guest sees no files, environment, arguments or real clock.
func TestSandboxNoWorld(t *testing.T) {
	wasm := guestWasm(t, "behave")
	h := newTestHost(t, Config{PoolSize: 1, CallTimeout: 2 * time.Second})
	t.Setenv("TOKENOMICS_SECRET_FOR_TEST", "x")
	rs, err := h.Compile([]policy.Rule{behaveRule(t, wasm, "probe", "")}, behaveSource(wasm))
	require.NoError(t, err)
	var v Verdict
	require.NoError(t, rs.Check(context.Background(), Input, []Text{{Data: []byte("x")}}, &v))
	require.Equal(t, Block, v.Action)
	assert.Contains(t, v.Reason, "file=true dir=true env=0 args=0")
	assert.NotContains(t, v.Reason, fmt.Sprintf("time=%d", time.Now().Year()))
}

// TestPluginBlockAndReplace: a plugin's own block reason and replacements.
func TestPluginBlockAndReplace(t *testing.T) {
	t.Parallel()
	wasm := guestWasm(t, "behave")
	h := newTestHost(t, Config{PoolSize: 1, CallTimeout: 2 * time.Second})
	for _, tc := range []struct {
		name   string
		mode   string
		action string
		want   Action
		reason string
	}{
		{name: "block on a fail rule", mode: "block", action: "fail", want: Block, reason: "custom reason"},
		{name: "block on a warn rule is a finding", mode: "block", action: "warn", want: Allow},
		{name: "replace on a warn rule does not mask", mode: "replace", action: "warn", want: Allow},
		{name: "replace on a mask rule", mode: "replace", action: "mask", want: Mask},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := behaveRule(t, wasm, tc.mode, "")
			r.Action = tc.action
			rs, err := h.Compile([]policy.Rule{r}, behaveSource(wasm))
			require.NoError(t, err)
			var v Verdict
			require.NoError(t, rs.Check(context.Background(), Input, []Text{{Data: []byte("the secret")}}, &v))
			assert.Equal(t, tc.want, v.Action)
			assert.Contains(t, v.Reason, tc.reason)
			assert.NotEmpty(t, v.Findings)
		})
	}
}

// TestCompileErrors: every refusal names the rule.
func TestCompileErrors(t *testing.T) {
	t.Parallel()
	wasm := guestWasm(t, "behave")
	h := sharedHost(t)
	for _, tc := range []struct {
		name   string
		rule   policy.Rule
		source func(string, string) ([]byte, error)
		is     error
		text   string
	}{
		{name: "unknown type", rule: policy.Rule{Name: "r1", Type: "magic"}, is: ErrUnknownType},
		{name: "unknown detector", rule: policy.Rule{Name: "r2", Type: "pii", Detect: []string{"dna"}}, is: ErrBadRule, text: "dna"},
		{name: "bad regex", rule: policy.Rule{Name: "r3", Type: "regex", Pattern: "(a"}, is: ErrBadRule},
		{name: "empty keywords", rule: policy.Rule{Name: "r4", Type: "keyword"}, is: ErrBadRule},
		{name: "bad action", rule: policy.Rule{Name: "r5", Type: "keyword", Keywords: []string{"a"}, Action: "explode"}, is: ErrBadRule},
		{name: "bad scope", rule: policy.Rule{Name: "r6", Type: "keyword", Keywords: []string{"a"}, Scope: "sideways"}, is: ErrBadRule},
		{name: "bad threshold", rule: policy.Rule{Name: "r7", Type: "prompt_guard", Threshold: 2}, is: ErrBadRule},
		{name: "wasm without sha", rule: policy.Rule{Name: "r8", Type: "wasm", Plugin: "behave"}, is: ErrBadRule},
		{name: "wasm sha mismatch", rule: policy.Rule{Name: "r9", Type: "wasm", Plugin: "behave", SHA256: Sum([]byte("other"))}, source: behaveSource(wasm), is: ErrBadModule},
		{name: "plugin refuses config", rule: behaveRule(t, wasm, "badconfig", ""), source: behaveSource(wasm), is: ErrBadRule, text: "this config is refused"},
		{name: "fetch fails", rule: policy.Rule{Name: "r11", Type: "wasm", Plugin: "gone", SHA256: Sum(wasm)}, source: func(string, string) ([]byte, error) { return nil, errors.New("unreachable") }, text: "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := h.Compile([]policy.Rule{tc.rule}, tc.source)
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Contains(t, err.Error(), fmt.Sprintf("rule %q", tc.rule.Name))
			assert.Contains(t, err.Error(), tc.text)
		})
	}
}
