package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var guestBuildMu sync.Mutex

// guestWasmPath builds the Go guest in dir once per source hash (of dir,
// the SDK and deps) and returns the module's path.
func guestWasmPath(t testing.TB, dir string, deps ...string) string {
	t.Helper()
	guestBuildMu.Lock()
	defer guestBuildMu.Unlock()
	h := sha256.New()
	dirs := append([]string{dir, filepath.Join("..", "..", "sdk"), filepath.Join("..", "..", "sdk", "abi"), filepath.Join("..", "..", "sdk", "detect")}, deps...)
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.go"))
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			h.Write([]byte(f))
			h.Write(b)
		}
	}
	out := filepath.Join(testCacheDir(), "guests", hex.EncodeToString(h.Sum(nil))[:16]+"-"+filepath.Base(dir)+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp := out + ".tmp"
	tags := ""
	if filepath.Base(dir) == builtinModuleName {
		tags = "sdk_nojson" // as plugins.mk builds it
	}
	require.NoError(t, buildPlugin(ctx, dir, tmp, tags))
	require.NoError(t, os.Rename(tmp, out))
	return out
}

func guestWasm(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(guestWasmPath(t, filepath.Join("testdata", "guests", name)))
	require.NoError(t, err)
	return b
}
