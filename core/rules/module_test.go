package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
)

// wasmSpec describes a tiny module: imported functions and exported
// functions, all of type () -> (), and optionally an exported memory.
type wasmSpec struct {
	imports [][2]string
	exports []string
	memory  bool
}

func leb(n int) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

func wasmName(s string) []byte { return append(leb(len(s)), s...) }

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, leb(len(body))...), body...)
}

// build assembles the module binary by hand (no toolchain needed).
func (s wasmSpec) build() []byte {
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	out = append(out, section(1, []byte{1, 0x60, 0, 0})...) // one type: () -> ()
	if len(s.imports) > 0 {
		body := leb(len(s.imports))
		for _, im := range s.imports {
			body = append(body, wasmName(im[0])...)
			body = append(body, wasmName(im[1])...)
			body = append(body, 0, 0) // func, type 0
		}
		out = append(out, section(2, body)...)
	}
	n := len(s.exports)
	if n > 0 {
		body := leb(n)
		for range n {
			body = append(body, 0)
		}
		out = append(out, section(3, body)...)
	}
	if s.memory {
		out = append(out, section(5, []byte{1, 0, 1})...) // one memory, min 1 page
	}
	exp := leb(n + map[bool]int{true: 1}[s.memory])
	for i, name := range s.exports {
		exp = append(exp, wasmName(name)...)
		exp = append(exp, 0)
		exp = append(exp, leb(len(s.imports)+i)...)
	}
	if s.memory {
		exp = append(exp, wasmName("memory")...)
		exp = append(exp, 2, 0)
	}
	out = append(out, section(7, exp)...)
	if n > 0 {
		body := leb(n)
		for range n {
			body = append(body, 2, 0, 0x0b) // size 2: no locals, end
		}
		out = append(out, section(10, body)...)
	}
	return out
}

func TestBadModulesRefused(t *testing.T) {
	t.Parallel()
	h := sharedHost(t)
	allNames := []string{"tokenomics_abi_v1", "tokenomics_alloc", "tokenomics_free", "tokenomics_configure", "tokenomics_check"}
	for _, tc := range []struct {
		name string
		spec wasmSpec
		want string
	}{
		{name: "foreign import module", spec: wasmSpec{imports: [][2]string{{"env", "socket"}}, exports: allNames, memory: true}, want: "imports env.socket"},
		{name: "newer host module", spec: wasmSpec{imports: [][2]string{{"tokenomics_v2", "log"}}, exports: allNames, memory: true}, want: "imports tokenomics_v2.log"},
		{name: "unknown host function", spec: wasmSpec{imports: [][2]string{{"tokenomics_v1", "exec"}}, exports: allNames, memory: true}, want: "unknown host function tokenomics_v1.exec"},
		{name: "missing exports", spec: wasmSpec{memory: true}, want: "does not export tokenomics_check"},
		{name: "other abi version", spec: wasmSpec{exports: []string{"tokenomics_abi_v2"}, memory: true}, want: "speaks tokenomics_abi_v2"},
		{name: "wrong signatures", spec: wasmSpec{exports: allNames, memory: true}, want: "exports tokenomics_check with the wrong signature"},
		{name: "no memory", spec: wasmSpec{exports: allNames}, want: "does not export memory"},
		{name: "not wasm", want: "compiling plugin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wasm := []byte("not a module")
			if tc.spec.exports != nil || tc.spec.imports != nil || tc.spec.memory {
				wasm = tc.spec.build()
			}
			_, err := h.Compile([]policy.Rule{{Name: "custom", Type: TypeWASM, Plugin: "bad", SHA256: Sum(wasm)}},
				func(string, string) ([]byte, error) { return wasm, nil })
			require.ErrorIs(t, err, ErrBadModule)
			assert.Contains(t, err.Error(), `rule "custom"`)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
