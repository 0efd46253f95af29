package rules

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
)

// TestAllowPathAllocs: once warm, checking the contractor rules on a clean
// request allocates nothing; streaming a clean delta neither.
func TestAllowPathAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("needs warm pools")
	}
	if raceEnabled {
		t.Skip("the race detector allocates; run without -race (make bench covers it)")
	}
	h := newTestHost(t, Config{PoolSize: 1, CallTimeout: 5 * time.Second})
	rs, err := h.Compile(contractorRules(t), nil)
	require.NoError(t, err)
	texts := withoutPII(contractorChat(t))
	ctx := context.Background()
	var v Verdict
	require.NoError(t, rs.Check(ctx, Input, texts, &v))
	require.Equal(t, Allow, v.Action)
	waitWarm(t, h)
	assert.Zero(t, testing.AllocsPerRun(50, func() { _ = rs.Check(ctx, Input, texts, &v) }))
	assert.Zero(t, testing.AllocsPerRun(50, func() { _ = rs.Check(ctx, Output, texts, &v) }))

	s := rs.NewStream(ctx)
	delta := []byte("some harmless streamed words ")
	for range 40 { // fill the tail and grow the buffers
		_, err := s.Write(delta, &v)
		require.NoError(t, err)
	}
	assert.Zero(t, testing.AllocsPerRun(50, func() { _, _ = s.Write(delta, &v) }))
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{name: "defaults", ok: true},
		{name: "tiny memory", cfg: Config{MemoryLimitPages: 10}},
		{name: "short timeout", cfg: Config{CallTimeout: time.Microsecond}},
		{name: "huge pool", cfg: Config{PoolSize: 1000}},
		{name: "small tail", cfg: Config{StreamTailMax: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.cfg
			c.SetDefaults()
			if tc.ok {
				assert.NoError(t, c.Validate())
				return
			}
			assert.Error(t, c.Validate())
			assert.Error(t, New(tc.cfg, nil).Provision(context.Background()))
		})
	}
}

func TestHostLifecycle(t *testing.T) {
	t.Parallel()
	// Close tolerates a host that was never provisioned.
	require.NoError(t, New(Config{}, nil).Close(context.Background()))

	h := New(Config{Builtins: builtinsFS(t), CacheDir: filepath.Join(testCacheDir(), "wazero")}, nil)
	_, err := h.Compile([]policy.Rule{{Name: "k", Type: "keyword", Keywords: []string{"x"}}}, nil)
	require.Error(t, err, "compile before provision")
	require.NoError(t, h.Provision(context.Background()))
	rs, err := h.Compile([]policy.Rule{{Name: "k", Type: "keyword", Keywords: []string{"x"}}}, nil)
	require.NoError(t, err)
	require.NoError(t, h.Close(context.Background()))
	require.NoError(t, h.Close(context.Background()))
	var v Verdict
	require.NoError(t, rs.Check(context.Background(), Input, []Text{{Data: []byte("x")}}, &v))
	assert.Equal(t, Block, v.Action, "a closed host fails closed for blocking rules")
	_, err = h.Compile([]policy.Rule{{Name: "k", Type: "keyword", Keywords: []string{"x"}}}, nil)
	assert.ErrorIs(t, err, ErrClosed)

	// No built-ins: a clear error.
	h2 := newTestHost(t, Config{Builtins: os.DirFS(t.TempDir())})
	_, err = h2.Compile([]policy.Rule{{Name: "p", Type: "pii", Detect: []string{"email"}}}, nil)
	assert.ErrorIs(t, err, ErrBuiltin)
	assert.Contains(t, err.Error(), "make plugins")
}

func TestCheckCanceledContext(t *testing.T) {
	t.Parallel()
	rs, err := sharedHost(t).Compile([]policy.Rule{{Name: "k", Type: "keyword", Keywords: []string{"x"}}}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var v Verdict
	assert.ErrorIs(t, rs.Check(ctx, Input, nil, &v), context.Canceled)
	in, out := rs.Scopes()
	assert.True(t, in)
	assert.False(t, out)
}

func TestRunCases(t *testing.T) {
	t.Parallel()
	wasm := guestWasm(t, "behave")
	good := []byte(`
cases:
  - name: replaces the keyword
    rule: {action: mask}
    config: {mode: replace}
    texts: [{role: user, data: "my secret"}]
    expect:
      action: mask
      output: ["my ***"]
      findings: [{detector: behave, action: mask, text: 0, start: 3, end: 9}]
  - name: blocks with its reason
    config: {mode: block}
    texts: [{data: "x"}]
    expect: {action: block, reason_contains: custom reason}
  - name: wrong expectation is reported
    phase: output
    config: {mode: ok}
    texts: [{data: "x"}]
    expect: {action: block}
  - name: a refused config is expected
    config: {mode: badconfig}
    expect: {configure_error: this config is refused}
  - name: an unexpected refusal is reported
    config: {mode: badconfig}
    texts: [{data: "x"}]
    expect: {action: allow}
  - name: a missing refusal is reported
    config: {mode: ok}
    expect: {configure_error: refused}
  - name: a keyword split across deltas is replaced
    rule: {action: mask, scope: output}
    config: {mode: replace}
    stream: ["my sec", "ret plan"]
    expect:
      action: mask
      output: ["my *** plan"]
      findings: [{detector: behave, start: 3, end: 9}]
  - name: a stream that blocks sends nothing more
    rule: {scope: output}
    config: {mode: block}
    stream: ["a", "b"]
    expect: {action: block, reason_contains: custom reason, output: [""]}
`)
	rep, err := RunCases(context.Background(), wasm, good)
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Passed, "%+v", rep.Cases)
	assert.Equal(t, 3, rep.Failed)
	assert.Contains(t, rep.Cases[4].Problems[0], "this config is refused")
	assert.Contains(t, rep.Cases[5].Problems[0], "the rule compiled")
	assert.False(t, rep.OK())
	assert.Empty(t, rep.Cases[0].Problems)
	assert.Contains(t, rep.Cases[2].Problems[0], "action allow, want block")

	for _, bad := range []string{
		"cases: []",
		"cases: [{name: x, expect: {action: maybe}}]",
		"cases: [{name: x, unknown: 1, expect: {action: allow}}]",
		"cases: [{name: x, phase: sideways, expect: {action: allow}}]",
		"cases: [{name: x, stream: [a], texts: [{data: b}], expect: {action: allow}}]",
		"cases: [{name: x, phase: input, stream: [a], expect: {action: allow}}]",
		"cases: [{name: x, stream: [a], expect: {action: allow, output: [a, b]}}]",
	} {
		_, err := RunCases(context.Background(), wasm, []byte(bad))
		assert.ErrorIs(t, err, ErrBadCases, bad)
	}
	_, err = RunCases(context.Background(), []byte("junk"), good)
	assert.ErrorIs(t, err, ErrBadModule)
}

// TestBenchCases: every case that checks something is measured; configure
// cases are skipped. (Figures are not asserted: they are for the author.)
func TestBenchCases(t *testing.T) {
	t.Parallel()
	res, err := BenchCases(context.Background(), guestWasm(t, "behave"), []byte(`
cases:
  - {name: check, rule: {action: mask}, config: {mode: replace}, texts: [{data: "my secret"}], expect: {action: mask}}
  - {name: stream, rule: {action: mask, scope: output}, config: {mode: replace}, stream: ["my sec", "ret"], expect: {action: mask}}
  - {name: refused, config: {mode: badconfig}, expect: {configure_error: refused}}
`), 5*time.Millisecond)
	require.NoError(t, err)
	require.Len(t, res, 3)
	for _, r := range res[:2] {
		assert.Positive(t, r.Runs, r.Name)
		assert.Positive(t, r.PerRun, r.Name)
	}
	assert.True(t, res[1].StreamPerCall)
	assert.NotEmpty(t, res[2].Skipped)
}

func TestBuildPluginError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/p\n\ngo 1.24\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\nfunc main() { undefined() }\n"), 0o644))
	err := BuildPlugin(context.Background(), dir, filepath.Join(dir, "out.wasm"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "undefined")
}

func FuzzParseCases(f *testing.F) {
	f.Add([]byte("cases: [{name: a, expect: {action: allow}}]"))
	f.Add([]byte("cases: [{name: a, rule: {action: mask}, texts: [{data: x}], expect: {action: mask, output: [y]}}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cases, err := ParseCases(b)
		if err == nil && len(cases) == 0 {
			t.Fatal("no error and no cases")
		}
	})
}
