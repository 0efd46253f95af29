package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wasmCustomSections lists the names of a module's custom sections.
func wasmCustomSections(t *testing.T, b []byte) []string {
	t.Helper()
	require.True(t, len(b) > 8 && string(b[:4]) == "\x00asm", "not a wasm module")
	leb := func(i int) (int, int) {
		r, s := 0, 0
		for {
			x := b[i]
			i++
			r |= int(x&0x7f) << s
			s += 7
			if x < 0x80 {
				return r, i
			}
		}
	}
	var names []string
	for i := 8; i < len(b); {
		id := b[i]
		n, j := leb(i + 1)
		if id == 0 {
			l, k := leb(j)
			names = append(names, string(b[k:k+l]))
		}
		i = j + n
	}
	return names
}

// TestPluginNew: `plugin new` writes a module that builds out of tree (the
// SDK required at a version, or replaced by a checkout with --sdk), whose
// Makefile builds a stripped module like the built-ins and whose cases —
// texts, a stream split across deltas, a refused config — pass, with
// --bench figures.
func TestPluginNew(t *testing.T) {
	t.Parallel()
	work := t.TempDir()

	// A development build has no published SDK version: it says what to do
	// and writes nothing.
	res := run(t, work, nil, "plugin", "new", "acme-words", "--no-tidy")
	assert.NotEqual(t, 0, res.code)
	assert.Contains(t, res.stderr, "--sdk")
	assert.NoDirExists(t, filepath.Join(work, "acme-words"))

	// With a published version: a plain require, no replace to guess.
	res = run(t, work, nil, "plugin", "new", "acme-words", "--sdk-version", "v1.4.2", "--no-tidy", "--dir", "released")
	require.Equal(t, 0, res.code, res.stderr)
	mod, err := os.ReadFile(filepath.Join(work, "released", "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(mod), "require github.com/tokenomics-dev/tokenomics v1.4.2\n")
	assert.NotContains(t, string(mod), "replace")
	for _, f := range []string{"main.go", "cases.yaml", "Makefile", "README.md"} {
		assert.FileExists(t, filepath.Join(work, "released", f))
	}
	res = run(t, work, nil, "plugin", "new", "Bad/Name", "--sdk-version", "v1.4.2")
	assert.NotEqual(t, 0, res.code)

	// Against this checkout, then make test and make bench with the binary
	// under test.
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	env := goEnv(t)
	res = run(t, work, env, "plugin", "new", "acme-words", "--sdk", root)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	dir := filepath.Join(work, "acme-words")
	mod, err = os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(mod), "replace github.com/tokenomics-dev/tokenomics => "+root)

	mk := func(target string) result {
		return runCmd(t, exec.Command("make", target, "TOKENOMICS="+binary(t), "BENCH_TIME=50ms"), dir, env, "make "+target)
	}
	res = mk("test")
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	assert.Contains(t, res.stdout, "5 passed, 0 failed")
	assert.Contains(t, res.stdout, "PASS  a word split across stream deltas is masked")
	assert.Contains(t, res.stdout, "PASS  refuses an empty word list")

	wasm, err := os.ReadFile(filepath.Join(dir, "acme-words.wasm"))
	require.NoError(t, err)
	for _, s := range wasmCustomSections(t, wasm) {
		assert.NotEqual(t, "name", s, "plugin build strips the symbol table like the built-ins")
		assert.False(t, strings.HasPrefix(s, ".debug"), "no DWARF: %s", s)
	}

	res = mk("bench")
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	assert.Equal(t, 4, strings.Count(res.stdout, "BENCH "), res.stdout)
	assert.Contains(t, res.stdout, "µs/check")
	assert.Contains(t, res.stdout, "µs/stream")
	assert.Contains(t, res.stdout, "allocs")
	assert.Contains(t, res.stdout, "SKIP   refuses an empty word list")
}
