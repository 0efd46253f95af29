package rules

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

// parsedRule goes through the production policy parser, so the defaults
// (on_error by action) are the ones a proxy applies.
func parsedRule(t testing.TB, fields map[string]any) policy.Rule {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"rules": []any{fields}})
	require.NoError(t, err)
	p, err := policy.Parse(raw)
	require.NoError(t, err)
	return p.Rules[0]
}

func wasmRule(t testing.TB, name, action string, wasm []byte) policy.Rule {
	return parsedRule(t, map[string]any{"name": name, "type": "wasm", "plugin": name, "sha256": Sum(wasm), "action": action})
}

func hostileHost(t testing.TB) *Host {
	return newTestHost(t, Config{CallTimeout: 250 * time.Millisecond, InitTimeout: 500 * time.Millisecond,
		PoolWait: 250 * time.Millisecond, MemoryLimitPages: 64, PoolSize: 1})
}

// TestHostileModules: every hostile module, on a mask and on a fail rule
// with the default on_error, blocks with the generic reason; the cause
// reaches v.Errors (first line only), never the reason.
func TestHostileModules(t *testing.T) {
	t.Parallel()
	h := hostileHost(t)
	texts := []Text{{Data: []byte("hello world, a secret"), Role: "user"}}
	for _, c := range hostile.Cases() {
		for _, action := range []string{"mask", "fail"} {
			t.Run(c.Name+"/"+action, func(t *testing.T) {
				src := func(string, string) ([]byte, error) { return c.Wasm, nil }
				r := wasmRule(t, c.Name, action, c.Wasm)
				require.Equal(t, policy.OnErrorBlock, r.OnError, "default on_error of a %s rule", action)
				start := time.Now()
				rs, err := h.CompileAsync([]policy.Rule{r}, src)
				require.NoError(t, err)
				assert.Less(t, time.Since(start), 2*time.Second, "CompileAsync must not wait on the plugin")
				var v Verdict
				// Until the load's outcome is known the rule fails closed too;
				// check after it so the cause is the module's own.
				// A generous bound on the load (compiling the module): under
				// -race on a loaded 2-core machine one cold compile has taken
				// over a minute, and the load's length is not under test.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				werr := rs.Wait(ctx)
				if c.LoadFails {
					require.Error(t, werr)
				}
				require.NoError(t, rs.Check(context.Background(), Input, texts, &v))
				assert.Equal(t, Block, v.Action, c.What)
				if c.Name == "many_replacements" && action == "fail" {
					return // replacements do not matter to a fail rule: its match blocks
				}
				assert.True(t, v.Failed)
				assert.Equal(t, `content rule "`+c.Name+`" could not be checked`, v.Reason)
				require.NotEmpty(t, v.Errors)
				cause := Cause(v.Errors[0].Err)
				assert.NotContains(t, cause, "\n")
				assert.LessOrEqual(t, len(cause), causeMax)
				assert.Equal(t, c.Name, v.Errors[0].Plugin)
				assert.Equal(t, Sum(c.Wasm), v.Errors[0].Version)
			})
		}
	}
	failing := map[string]bool{}
	for _, c := range hostile.Cases() {
		failing[c.Name] = c.LoadFails
	}
	for _, st := range h.Plugins() {
		if failing[st.Name] {
			assert.False(t, st.Ready, st.Name)
			assert.NotEmpty(t, st.Error, st.Name)
		}
	}
}

// TestHostileOnErrorAllow: a rule that opts into on_error: allow lets the
// request through, with the error recorded.
func TestHostileOnErrorAllow(t *testing.T) {
	t.Parallel()
	h := hostileHost(t)
	for _, c := range hostile.Cases() {
		if c.Name != "trap" {
			continue
		}
		r := parsedRule(t, map[string]any{"name": "t", "type": "wasm", "plugin": "t", "sha256": Sum(c.Wasm), "action": "mask", "on_error": "allow"})
		rs, err := h.Compile([]policy.Rule{r}, func(string, string) ([]byte, error) { return c.Wasm, nil })
		require.NoError(t, err)
		var v Verdict
		require.NoError(t, rs.Check(context.Background(), Input, []Text{{Data: []byte("x")}}, &v))
		assert.Equal(t, Allow, v.Action)
		require.Len(t, v.Errors, 1)
		assert.False(t, v.Errors[0].Blocked)
	}
}

// TestHostileWarnDefaultsToAllow: warn and log rules default to allow.
func TestHostileWarnDefaultsToAllow(t *testing.T) {
	for _, action := range []string{"warn", "log"} {
		r := parsedRule(t, map[string]any{"name": "w", "type": "keyword", "keywords": []string{"x"}, "action": action})
		assert.Equal(t, policy.OnErrorAllow, r.OnError)
	}
	for _, action := range []string{"mask", "fail"} {
		r := parsedRule(t, map[string]any{"name": "w", "type": "keyword", "keywords": []string{"x"}, "action": action})
		assert.Equal(t, policy.OnErrorBlock, r.OnError)
	}
}

// TestHostileInitDoesNotHoldTheHost: while a module loops in its start
// function, other plugins load and check, CompileAsync returns at once, and
// Close ends the loop.
func TestHostileInitDoesNotHoldTheHost(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, Config{CallTimeout: 250 * time.Millisecond, InitTimeout: time.Hour, PoolSize: 2})
	var loop []byte
	for _, c := range hostile.Cases() {
		if c.Name == "loop_start" {
			loop = c.Wasm
		}
	}
	src := func(string, string) ([]byte, error) { return loop, nil }
	start := time.Now()
	rsLoop, err := h.CompileAsync([]policy.Rule{wasmRule(t, "loop_start", "mask", loop)}, src)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)

	ok := hostile.Allow()
	rsOK, err := h.Compile([]policy.Rule{wasmRule(t, "allow", "mask", ok)}, func(string, string) ([]byte, error) { return ok, nil })
	require.NoError(t, err, "another plugin loads while one loops in init")
	var v Verdict
	require.NoError(t, rsOK.Check(context.Background(), Input, []Text{{Data: []byte("x")}}, &v))
	assert.Equal(t, Allow, v.Action)

	require.NoError(t, rsLoop.Check(context.Background(), Input, []Text{{Data: []byte("x")}}, &v))
	assert.Equal(t, Block, v.Action, "a rule whose plugin is not ready fails closed")
	assert.ErrorIs(t, v.Errors[0].Err, ErrNotReady)

	done := make(chan error, 1)
	go func() { done <- h.Close(context.Background()) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited on a plugin looping in its start function")
	}
}

// TestHostileInitDeadline: the watchdog stops a start function at
// InitTimeout and the module reports the failure.
func TestHostileInitDeadline(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, Config{CallTimeout: 100 * time.Millisecond, InitTimeout: 200 * time.Millisecond, PoolSize: 1})
	for _, c := range hostile.Cases() {
		if c.Name != "loop_initialize" {
			continue
		}
		rs, err := h.CompileAsync([]policy.Rule{wasmRule(t, c.Name, "fail", c.Wasm)}, func(string, string) ([]byte, error) { return c.Wasm, nil })
		require.NoError(t, err)
		// Generous: the compile before the start function runs is slow
		// under -race on a loaded machine; the watchdog's own deadline is
		// what the error must name.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		err = rs.Wait(ctx)
		require.Error(t, err)
		assert.ErrorIs(t, err, errTimeout)
	}
}

// TestHostileOverlapAndSanitize: overlapping spans merge into one edit; a
// block reason with control characters reaches the client sanitized.
func TestHostileOverlapAndSanitize(t *testing.T) {
	t.Parallel()
	h := hostileHost(t)
	ov := hostile.Overlapping()
	rs, err := h.Compile([]policy.Rule{wasmRule(t, "ov", "mask", ov)}, func(string, string) ([]byte, error) { return ov, nil })
	require.NoError(t, err)
	texts := []Text{{Data: []byte("0123456789")}}
	var v Verdict
	require.NoError(t, rs.Check(context.Background(), Input, texts, &v))
	assert.Equal(t, Mask, v.Action)
	assert.Equal(t, "[REDACTED:w]89", string(v.Apply(0, texts[0].Data, nil)))

	cr := hostile.ControlReason()
	rs, err = h.Compile([]policy.Rule{wasmRule(t, "cr", "fail", cr)}, func(string, string) ([]byte, error) { return cr, nil })
	require.NoError(t, err)
	require.NoError(t, rs.Check(context.Background(), Input, texts, &v))
	assert.Equal(t, Block, v.Action)
	assert.False(t, v.Failed)
	for _, r := range v.Reason {
		assert.False(t, r < 0x20 || r == 0x7f || r == '\u202e', "reason %q has a control character", v.Reason)
	}
}

// TestHostileSlowUnderLoad: a slow plugin with a pool of one and eight
// concurrent checks: each check waits its turn within PoolWait or fails
// closed; none is waved through.
func TestHostileSlowUnderLoad(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, Config{CallTimeout: 5 * time.Second, PoolWait: time.Minute, PoolSize: 1})
	slow := hostile.Slow(300_000)
	rs, err := h.Compile([]policy.Rule{wasmRule(t, "slow", "fail", slow)}, func(string, string) ([]byte, error) { return slow, nil })
	require.NoError(t, err)
	var wg sync.WaitGroup
	results := make([]Verdict, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = rs.Check(context.Background(), Input, []Text{{Data: []byte("x")}}, &results[i])
		}()
	}
	wg.Wait()
	for i := range results {
		assert.Equal(t, Allow, results[i].Action, "check %d waited for an instance instead of failing: %v", i, results[i].Errors)
	}
}
