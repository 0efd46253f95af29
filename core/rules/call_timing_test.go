package rules

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
)

// BenchmarkCallOverhead: one rule, a one-byte text: the boundary cost of a
// trusted call, a sandboxed call (termination checks, watchdog), and a
// sandboxed call with a context timeout per call instead of the watchdog.
func BenchmarkCallOverhead(b *testing.B) {
	rules := []policy.Rule{{Name: "k", Type: "keyword", Keywords: []string{"zzz"}}}
	texts := []Text{{Data: []byte("x")}}
	for _, tc := range []struct {
		name    string
		sandbox bool
		ctxTO   bool
	}{{name: "trusted"}, {name: "sandboxed-watchdog", sandbox: true}, {name: "sandboxed-ctx-timeout", sandbox: true, ctxTO: true}} {
		b.Run(tc.name, func(b *testing.B) {
			h := newTestHost(b, Config{SandboxBuiltins: tc.sandbox, PoolSize: 1})
			rs, err := h.Compile(rules, nil)
			require.NoError(b, err)
			var v Verdict
			require.NoError(b, rs.Check(context.Background(), Input, texts, &v))
			waitWarm(b, h)
			r := &rs.rules[0]
			b.ReportAllocs()
			if !tc.ctxTO {
				for b.Loop() {
					_ = rs.Check(context.Background(), Input, texts, &v)
				}
				return
			}
			inst, _ := r.mod.pool.get(context.Background(), nopObserver{})
			base := inst.ctx
			for b.Loop() {
				ctx, cancel := context.WithTimeout(base, time.Second)
				inst.ctx = ctx
				_, _ = inst.check(r.cfg, 1, 0, texts)
				cancel()
			}
			inst.ctx = base
			r.mod.pool.put(inst)
		})
	}
}
