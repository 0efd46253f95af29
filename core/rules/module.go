package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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

	mu      sync.Mutex // guards byBlob and appends to configs
	byBlob  map[string]uint32
	configs atomic.Pointer[[]*modConfig] // by id; readers load without locking
}

// modConfig is one configuration of a module (one distinct rule config).
type modConfig struct {
	id   uint32
	blob []byte

	mu        sync.Mutex // guards ready and err during prepare
	ready     bool
	err       error // a refusal by the plugin, cached; transient errors are not
	detectors []string
	maxMatch  int // longest match, bytes; from the guest or its matchers
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

// prepare configures c on one instance to validate it and learn its
// detectors and match bound. Success and refusals are cached; a transient
// failure (no free instance, a trap) is retried by the next Compile.
func (m *module) prepare(ctx context.Context, c *modConfig) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ready || c.err != nil {
		return c.err
	}
	inst, err := m.pool.get(ctx)
	if err != nil {
		return err
	}
	err = inst.configure(c, true)
	m.pool.put(inst)
	switch {
	case err == nil:
		c.ready = true
	case errors.Is(err, ErrBadRule):
		c.err = err
	}
	return err
}
