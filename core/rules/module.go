package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// module is one compiled plugin with its pool and its configurations.
type module struct {
	h        *Host
	name     string
	sha      string
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	trusted  bool
	log      hclog.Logger
	pool     *pool

	// Load state. loaded closes at the first outcome of the load (one
	// instance up, or a failure); dead closes when the module can never
	// load (it does not compile or breaks the ABI). err is the latest load
	// failure, cleared when an instance comes up.
	loaded     chan struct{}
	loadedOnce sync.Once
	dead       chan struct{}
	up         atomic.Bool
	err        atomic.Pointer[error]

	mu      sync.Mutex // guards byBlob and appends to configs
	byBlob  map[string]uint32
	configs atomic.Pointer[[]*modConfig] // by id; readers load without locking
}

// modConfig is one configuration of a module (one distinct rule config).
type modConfig struct {
	id   uint32
	blob []byte

	mu        sync.Mutex  // serializes prepare; guards err
	ready     atomic.Bool // detectors, repl and maxMatch are set
	err       error       // a refusal by the plugin, cached; transient errors are not
	detectors []string
	repl      [][]byte // default replacement per detector
	maxMatch  int      // longest match, bytes; from the guest or its matchers
}

type sig struct {
	params, results []api.ValueType
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64

	requiredExports = map[string]sig{
		abi.ExportMarker:    {nil, nil},
		abi.ExportAlloc:     {[]api.ValueType{i32}, []api.ValueType{i32}},
		abi.ExportFree:      {[]api.ValueType{i32}, nil},
		abi.ExportConfigure: {[]api.ValueType{i32, i32, i32}, []api.ValueType{i64}},
		abi.ExportCheck:     {[]api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i64}},
	}
)

// checkManySig is the signature of the optional ExportCheckMany; a module
// exporting it otherwise is checked rule by rule.
var checkManySig = sig{[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i64}}

func hasSig(d api.FunctionDefinition, s sig) bool {
	return slices.Equal(d.ParamTypes(), s.params) && slices.Equal(d.ResultTypes(), s.results)
}

// checkModule refuses modules that import from anywhere but the ABI module
// and WASI, import memory, or lack the ABI v1 exports with their signatures.
func checkModule(c wazero.CompiledModule) error {
	var problems []string
	for _, f := range c.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case abi.WASIModule:
		case abi.ImportModule:
			if _, ok := hostSigs[name]; !ok {
				problems = append(problems, fmt.Sprintf("imports unknown host function %s.%s", mod, name))
			}
		default:
			problems = append(problems, fmt.Sprintf("imports %s.%s (only %s and %s are allowed)", mod, name, abi.ImportModule, abi.WASIModule))
		}
	}
	if len(c.ImportedMemories()) > 0 {
		problems = append(problems, "imports a memory")
	}
	exports := c.ExportedFunctions()
	if _, ok := exports[abi.ExportMarker]; !ok {
		var other []string
		for name := range exports {
			if strings.HasPrefix(name, "tokenomics_abi_") {
				other = append(other, name)
			}
		}
		if len(other) > 0 {
			problems = append(problems, fmt.Sprintf("speaks %s, this host speaks %s", strings.Join(other, ", "), abi.ExportMarker))
		}
	}
	names := make([]string, 0, len(requiredExports))
	for name := range requiredExports {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		want := requiredExports[name]
		f, ok := exports[name]
		if !ok {
			problems = append(problems, "does not export "+name)
			continue
		}
		if !slices.Equal(f.ParamTypes(), want.params) || !slices.Equal(f.ResultTypes(), want.results) {
			problems = append(problems, fmt.Sprintf("exports %s with the wrong signature", name))
		}
	}
	if _, ok := c.ExportedMemories()[abi.ExportMemory]; !ok {
		problems = append(problems, "does not export memory")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrBadModule, strings.Join(problems, "; "))
	}
	return nil
}

// config returns the id of the configuration blob, registering it once.
func (m *module) config(blob []byte) *modConfig {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.byBlob[string(blob)]; ok {
		return (*m.configs.Load())[id]
	}
	old := *m.configs.Load()
	c := &modConfig{id: uint32(len(old)), blob: slices.Clone(blob)}
	next := append(slices.Clip(old), c)
	m.configs.Store(&next)
	m.byBlob[string(c.blob)] = c.id
	return c
}

// compile runs off every caller's goroutine: it compiles and checks the
// module, then starts its pool, whose refiller instantiates under the
// watchdog.
func (m *module) compile(ctx context.Context, wasm []byte) {
	start := time.Now()
	compiled, err := m.rt.CompileModule(ctx, wasm)
	if err != nil {
		m.fail(fmt.Errorf("compiling plugin %q: %w: %v", m.name, ErrBadModule, err), true)
		return
	}
	if err := checkModule(compiled); err != nil {
		_ = compiled.Close(ctx)
		m.fail(fmt.Errorf("checking plugin %q: %w", m.name, err), true)
		return
	}
	if m.h.closed.Load() {
		_ = compiled.Close(ctx)
		m.fail(ErrClosed, true)
		return
	}
	m.compiled = compiled
	m.log.Debug("plugin compiled", "took", time.Since(start), "pool", m.pool.size)
	m.pool.start()
}

// fail records a load failure; permanent ones end the module.
func (m *module) fail(err error, permanent bool) {
	m.err.Store(&err)
	if permanent {
		m.log.Warn("plugin does not load; rules using it fail closed", "error", Cause(err))
		close(m.dead)
	}
	m.loadedOnce.Do(func() { close(m.loaded) })
}

// instanceUp records a successful instantiation.
func (m *module) instanceUp() {
	if !m.up.Swap(true) && m.err.Load() != nil {
		m.log.Info("plugin instance started after earlier failures")
	}
	m.err.Store(nil)
	m.loadedOnce.Do(func() { close(m.loaded) })
}

// loadErr is the latest load failure, or nil.
func (m *module) loadErr() error {
	if p := m.err.Load(); p != nil {
		return *p
	}
	return nil
}

// wait blocks until the load's first outcome or ctx ends, and returns the
// load failure if there is one.
func (m *module) wait(ctx context.Context) error {
	select {
	case <-m.loaded:
	case <-ctx.Done():
		return fmt.Errorf("waiting for plugin %q to load: %w: %w", m.name, ErrNotReady, ctx.Err())
	}
	if m.up.Load() {
		return nil
	}
	if err := m.loadErr(); err != nil {
		return fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	return nil
}

// prepareOn configures c on inst the first time c is used, to validate it
// and learn its detectors and match bound. Success and refusals are
// cached; a transient failure (a trap) is retried by the next use.
func (m *module) prepareOn(inst *instance, c *modConfig) error {
	if c.ready.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ready.Load() {
		return nil
	}
	if c.err != nil {
		return c.err
	}
	err := inst.configure(c, true)
	switch {
	case err == nil:
		for _, d := range c.detectors {
			c.repl = append(c.repl, []byte("[REDACTED:"+d+"]"))
		}
		c.ready.Store(true)
	case errors.Is(err, ErrBadRule):
		c.err = err
	}
	return err
}

// prepare waits for the module and prepares c on one of its instances.
func (m *module) prepare(ctx context.Context, c *modConfig) error {
	if c.ready.Load() {
		return nil
	}
	if err := m.wait(ctx); err != nil {
		return err
	}
	inst, err := m.pool.getCtx(ctx)
	if err != nil {
		return err
	}
	err = m.prepareOn(inst, c)
	m.pool.put(inst)
	return err
}

// CheckModule runs the host's load-time module check on wasm without
// instantiating it (no guest code runs): it must decode and validate, import
// only the ABI's host functions and WASI, and export ABI v1 with the right
// signatures. The central server runs it at upload, so it refuses what no
// proxy could load. It uses wazero's interpreter, which validates without
// compiling to machine code.
func CheckModule(ctx context.Context, wasm []byte) error {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadModule, err)
	}
	defer compiled.Close(ctx)
	return checkModule(compiled)
}
