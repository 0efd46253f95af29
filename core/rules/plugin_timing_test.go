package rules

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

// BenchmarkPluginCall: one sandboxed custom rule that allows, as a plugin
// author's module costs it: an SDK-built Go guest and a hand-written WAT
// module, on a one-byte text and on a 2 KB text. The figures include the
// host's side (input encoding, pool, watchdog deadline, result checks).
func BenchmarkPluginCall(b *testing.B) {
	goWasm := guestWasm(b, "behave")
	for _, mod := range []struct {
		name string
		rule func() (policy.Rule, []byte)
	}{
		{"go-sdk", func() (policy.Rule, []byte) { return behaveRule(b, goWasm, "ok", ""), goWasm }},
		{"wat", func() (policy.Rule, []byte) { w := hostile.Allow(); return wasmRule(b, "wat", "mask", w), w }},
	} {
		for _, size := range []int{1, 2048} {
			b.Run(mod.name+"/"+map[int]string{1: "1B", 2048: "2KB"}[size], func(b *testing.B) {
				h := newTestHost(b, Config{PoolSize: 1})
				r, wasm := mod.rule()
				rs, err := h.Compile([]policy.Rule{r}, func(string, string) ([]byte, error) { return wasm, nil })
				require.NoError(b, err)
				texts := []Text{{Data: []byte(strings.Repeat("a", size)), Role: "user"}}
				var v Verdict
				require.NoError(b, rs.Check(context.Background(), Input, texts, &v))
				require.Equal(b, Allow, v.Action)
				b.ReportAllocs()
				for b.Loop() {
					_ = rs.Check(context.Background(), Input, texts, &v)
				}
			})
		}
	}
}
