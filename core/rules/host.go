package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Host owns the wazero runtimes, the compiled modules and their pools, and
// the host-side matchers plugins compile. It is safe for concurrent use.
type Host struct {
	cfg Config
	log hclog.Logger

	cache     wazero.CompilationCache
	trusted   wazero.Runtime // built-ins: no termination checks
	sandboxed wazero.Runtime // custom plugins: termination checks + watchdog
	matchers  matcherTable

	mu         sync.Mutex
	modules    map[string]*module // by hex sha256
	builtinMod *module            // the built-in module, once loaded
	closed     atomic.Bool

	watch     watchdog
	mem       memoryGate
	alloc     experimental.MemoryAllocator // guest memories; nil: the Go heap
	provision bool
	obs       atomic.Pointer[Observer]

	// ctx is the parent of every guest context; Close cancels it, which
	// stops sandboxed instantiations and calls still running.
	ctx     context.Context
	cancel  context.CancelFunc
	loaders sync.WaitGroup
}

// New returns an unprovisioned Host; call Provision before use.
func New(cfg Config, logger hclog.Logger) *Host {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Host{cfg: cfg, log: logger.Named("rules"), modules: map[string]*module{}}
}

// Provision applies defaults, validates the config and creates the runtimes.
func (h *Host) Provision(ctx context.Context) error {
	h.cfg.SetDefaults()
	if err := h.cfg.Validate(); err != nil {
		return err
	}
	if h.cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(h.cfg.CacheDir)
		if err != nil {
			return fmt.Errorf("opening compilation cache %q: %w", h.cfg.CacheDir, err)
		}
		h.cache = c
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	var err error
	if h.trusted, err = h.newRuntime(ctx, false); err != nil {
		return err
	}
	if h.sandboxed, err = h.newRuntime(ctx, true); err != nil {
		return err
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.alloc = h.mem.memoryAllocator()
	h.watch.start(min(h.cfg.CallTimeout, h.cfg.InitTimeout))
	h.provision = true
	// The built-in module starts loading now, in the background, so the
	// first token that uses it rarely finds it still compiling.
	if h.cfg.PreloadBuiltins && h.cfg.Builtins != nil {
		if _, err := h.builtin(); err != nil {
			h.log.Debug("built-in plugins not preloaded", "error", err)
		}
	}
	return nil
}

func (h *Host) newRuntime(ctx context.Context, terminate bool) (wazero.Runtime, error) {
	rc := wazero.NewRuntimeConfigCompiler().
		WithCompilationCache(h.cache).
		WithMemoryLimitPages(h.cfg.MemoryLimitPages).
		WithCloseOnContextDone(terminate)
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("instantiating WASI: %w", err)
	}
	if err := h.instantiateHostModule(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("instantiating host functions: %w", err)
	}
	return rt, nil
}

// closeWait bounds how long Close waits for running checks.
const closeWait = 10 * time.Second

// Close stops the pools and closes every instance and runtime. It tolerates
// a partial Provision and repeated calls.
func (h *Host) Close(ctx context.Context) error {
	if h.closed.Swap(true) {
		return nil
	}
	if h.cancel != nil {
		h.cancel()
	}
	h.watch.stop()
	// Loaders compile (host work, no guest code) and then hand over to the
	// pools; wait for them within ctx so no runtime closes under them.
	waited := make(chan struct{})
	go func() { h.loaders.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
	}
	h.mu.Lock()
	mods := h.modules
	h.modules, h.builtinMod = map[string]*module{}, nil
	h.mu.Unlock()
	// Checks still running hold instances: wait for them (canceling h.ctx
	// stopped the sandboxed ones) before closing modules frees their
	// memories. Past the wait, memories are left mapped instead.
	wctx, cancel := context.WithTimeout(ctx, closeWait)
	defer cancel()
	for _, m := range mods {
		if !m.pool.quiesce(wctx) {
			h.mem.leak.Store(true)
		}
	}
	for _, m := range mods {
		m.pool.close(ctx)
	}
	var errs []error
	for _, rt := range []wazero.Runtime{h.trusted, h.sandboxed} {
		if rt != nil {
			errs = append(errs, rt.Close(ctx))
		}
	}
	if h.cache != nil {
		errs = append(errs, h.cache.Close(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing rules host: %w", err)
	}
	return nil
}

// Sum returns the hex sha256 of a module, the form policies name it by.
func Sum(wasm []byte) string {
	s := sha256.Sum256(wasm)
	return hex.EncodeToString(s[:])
}

// builtinModuleName is the name of the built-in module in Config.Builtins
// (without ".wasm"), the one module that serves every built-in rule type.
const builtinModuleName = "builtin"

// builtin returns the built-in module, which serves every built-in rule
// type: one compiled module and one pool for all of them (a Go-built module
// costs MBs of compiled code, each instance MiBs of linear memory).
func (h *Host) builtin() (*module, error) {
	h.mu.Lock()
	m := h.builtinMod
	h.mu.Unlock()
	if m != nil {
		return m, nil // every built-in rule of every policy: read and hash once
	}
	if h.cfg.Builtins == nil {
		return nil, fmt.Errorf("loading the built-in plugins: %w: no Builtins FS configured", ErrBuiltin)
	}
	wasm, err := fs.ReadFile(h.cfg.Builtins, builtinModuleName+".wasm")
	if err != nil {
		return nil, fmt.Errorf("loading the built-in plugins: %w (run `make plugins`): %v", ErrBuiltin, err)
	}
	// Go's linker writes tens of thousands of small data segments, each of
	// which wazero keeps on the heap for the module's life and once more
	// per instance; merged, they cost a few MB less (see packData).
	wasm = packData(wasm, packGap)
	m, err = h.load(builtinModuleName, wasm, !h.cfg.SandboxBuiltins, true)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.builtinMod = m
	h.mu.Unlock()
	return m, nil
}

// load returns the module for wasm, starting its load in the background the
// first time these bytes are seen: compiling, checking and instantiating
// never run under h.mu nor on the caller's goroutine, so token sync and
// request handling never wait on a plugin (DESIGN.md, failure doctrine).
//
// owned says the caller hands wasm over (nothing else holds it); otherwise
// load copies it for the background compile.
func (h *Host) load(name string, wasm []byte, trusted, owned bool) (*module, error) {
	if !h.provision {
		return nil, fmt.Errorf("loading plugin %q: host not provisioned", name)
	}
	if h.closed.Load() {
		return nil, ErrClosed
	}
	sum := Sum(wasm)
	key := sum
	if !trusted {
		key = "sandbox:" + sum
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if m, ok := h.modules[key]; ok {
		return m, nil
	}
	rt := h.trusted
	if !trusted {
		rt = h.sandboxed
	}
	m := &module{h: h, name: name, sha: sum, rt: rt, trusted: trusted, loaded: make(chan struct{}), dead: make(chan struct{})}
	m.log = h.log.With("plugin", name, "sha256", sum[:12])
	m.configs.Store(&[]*modConfig{})
	m.byBlob = map[string]uint32{}
	m.pool = newPool(m, h.cfg.PoolSize)
	h.modules[key] = m
	h.loaders.Add(1)
	if !owned {
		wasm = slices.Clone(wasm)
	}
	go func() {
		defer h.loaders.Done()
		m.compile(h.ctx, wasm)
	}()
	return m, nil
}

// PluginStatus is the load state of one plugin version, for /ready and
// status output.
type PluginStatus struct {
	Name, SHA256 string
	Ready        bool   // at least one instance is up
	Error        string // why it is not ready; "" while it is still loading
}

// Plugins lists the load state of every plugin version the host holds,
// built-ins included, sorted by name.
func (h *Host) Plugins() []PluginStatus {
	h.mu.Lock()
	mods := make([]*module, 0, len(h.modules))
	for _, m := range h.modules {
		mods = append(mods, m)
	}
	h.mu.Unlock()
	out := make([]PluginStatus, 0, len(mods))
	for _, m := range mods {
		st := PluginStatus{Name: m.name, SHA256: m.sha, Ready: m.up.Load()}
		if err := m.loadErr(); err != nil && !st.Ready {
			st.Error = Cause(err)
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b PluginStatus) int { return strings.Compare(a.Name+a.SHA256, b.Name+b.SHA256) })
	return out
}
