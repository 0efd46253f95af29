package rules

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests use the plugins built by `make plugins` (plugins/dist); when one
// is missing they build it with the Go toolchain into a cache directory.
// Test-only guests (testdata/guests/*) are always built that way. Built
// modules and wazero's compilation cache are kept in the OS temp dir across
// runs, keyed by source hash, so only the first run pays for compiling.

var (
	testHostOnce sync.Once
	testHostVal  *Host
	testHostErr  error
	testFS       fs.FS
)

func testCacheDir() string {
	return filepath.Join(os.TempDir(), "tokenomics-rules-test")
}

// builtinsFS returns plugins/dist, building the built-in module when it is
// missing.
func builtinsFS(t testing.TB) fs.FS {
	dist := filepath.Join("..", "..", "plugins", "dist")
	if _, err := os.Stat(filepath.Join(dist, builtinModuleName+".wasm")); err == nil {
		return os.DirFS(dist)
	}
	plugins := filepath.Join("..", "..", "plugins")
	deps, err := filepath.Glob(filepath.Join(plugins, "*"))
	require.NoError(t, err)
	out := guestWasmPath(t, filepath.Join(plugins, builtinModuleName), deps...)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dist, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dist, builtinModuleName+".wasm"), raw, 0o644))
	return os.DirFS(dist)
}

func newTestHost(t testing.TB, cfg Config) *Host {
	t.Helper()
	if cfg.Builtins == nil {
		cfg.Builtins = builtinsFS(t)
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(testCacheDir(), "wazero")
	}
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = 30 * time.Second // -race on a shared machine
	}
	h := New(cfg, nil)
	require.NoError(t, h.Provision(context.Background()))
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

// sharedHost is one Host for the read-only tests, so modules compile once
// per test binary.
func sharedHost(t testing.TB) *Host {
	t.Helper()
	testHostOnce.Do(func() {
		cfg := Config{
			Builtins:    builtinsFS(t),
			CacheDir:    filepath.Join(testCacheDir(), "wazero"),
			CallTimeout: 2 * time.Second, // -race slows guests down a lot
			InitTimeout: 30 * time.Second,
		}
		h := New(cfg, nil)
		if err := h.Provision(context.Background()); err != nil {
			testHostErr = fmt.Errorf("provisioning shared host: %w", err)
			return
		}
		testHostVal = h
	})
	require.NoError(t, testHostErr)
	return testHostVal
}

// waitWarm waits until every pool of h has all its instances built and
// idle (a trimmed pool has fewer than its size), so a benchmark does not
// time background instantiation.
func waitWarm(t testing.TB, h *Host) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		full := true
		for _, m := range h.modules {
			full = full && m.pool.live() > 0 && len(m.pool.ch) == m.pool.live()
		}
		h.mu.Unlock()
		if full {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("pools did not warm up")
}
