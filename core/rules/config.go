package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"time"
)

// Config tunes a Host. Zero values take the defaults of SetDefaults.
type Config struct {
	// Builtins holds builtin.wasm, the one module serving every built-in
	// rule type (pii, regex, keyword, prompt_guard), normally plugins.FS.
	Builtins fs.FS
	// CacheDir keeps wazero's compilation cache on disk, so a restart
	// compiles in about 50 ms instead of about 1.4 s per module. "" keeps it
	// in memory only.
	CacheDir string
	// PoolSize is the most warm instances per module. Default: GOMAXPROCS,
	// at most 4 (an idle Go-built instance holds about 4.5 MiB).
	PoolSize int
	// IdleTrim is how often a pool closes the idle instances beyond the
	// most that were in use at once since the last time, keeping at least
	// one; a get that finds none idle makes it grow back. Default 30s;
	// negative never trims.
	IdleTrim time.Duration
	// CallTimeout bounds one plugin call. Default 100ms.
	CallTimeout time.Duration
	// InitTimeout bounds one instantiation, start functions included
	// (_initialize, a start section); the watchdog stops a guest past it.
	// Default 2s: a Go-built guest needs 6–20 ms on an idle machine, but
	// far more on a loaded one (hundreds of ms under the race detector).
	InitTimeout time.Duration
	// PoolWait bounds how long a check waits for a free instance before its
	// rule counts as failed. Default: 5 × CallTimeout, so a burst of
	// clients queues behind a slow plugin instead of failing at once.
	PoolWait time.Duration
	// MaxReplacementBytes caps one replacement a plugin returns. Default 1024.
	MaxReplacementBytes int
	// MaxReasonBytes caps a plugin's block reason. Default 256.
	MaxReasonBytes int
	// MemoryLimitPages caps a guest's linear memory in 64 KiB pages.
	// Default 1024 (64 MiB); a Go-built guest needs at least 45.
	MemoryLimitPages uint32
	// RecycleBytes replaces an instance whose memory grew past it (Go guests
	// never shrink). Default 32 MiB.
	RecycleBytes uint64
	// StreamTailMax bounds the bytes a Stream holds back (the longest match
	// a streamed rule is guaranteed to catch across chunks). Default 4096.
	StreamTailMax int
	// PreloadBuiltins starts loading the built-in module at Provision, in
	// the background. Off by default: serve, tools and tests load it when
	// a policy first uses a built-in rule type.
	PreloadBuiltins bool
	// SandboxBuiltins runs built-in plugins like custom ones, with
	// termination checks and the watchdog (slower; see RATIONALE.md).
	SandboxBuiltins bool
}

// SetDefaults fills zero fields.
func (c *Config) SetDefaults() {
	if c.PoolSize == 0 {
		c.PoolSize = min(runtime.GOMAXPROCS(0), 4)
	}
	if c.IdleTrim == 0 {
		c.IdleTrim = 30 * time.Second
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 100 * time.Millisecond
	}
	if c.InitTimeout == 0 {
		c.InitTimeout = 2 * time.Second
	}
	if c.PoolWait == 0 {
		c.PoolWait = 5 * c.CallTimeout
	}
	if c.MaxReplacementBytes == 0 {
		c.MaxReplacementBytes = 1024
	}
	if c.MaxReasonBytes == 0 {
		c.MaxReasonBytes = 256
	}
	if c.MemoryLimitPages == 0 {
		c.MemoryLimitPages = 1024
	}
	if c.RecycleBytes == 0 {
		c.RecycleBytes = 32 << 20
	}
	if c.StreamTailMax == 0 {
		c.StreamTailMax = 4096
	}
}

// Validate reports every invalid field at once.
func (c *Config) Validate() error {
	var errs []error
	if c.PoolSize < 1 || c.PoolSize > 256 {
		errs = append(errs, fmt.Errorf("pool size %d: must be in [1,256]", c.PoolSize))
	}
	if c.CallTimeout < time.Millisecond {
		errs = append(errs, fmt.Errorf("call timeout %s: must be at least 1ms", c.CallTimeout))
	}
	if c.InitTimeout < time.Millisecond {
		errs = append(errs, fmt.Errorf("init timeout %s: must be at least 1ms", c.InitTimeout))
	}
	if c.PoolWait < 0 {
		errs = append(errs, fmt.Errorf("pool wait %s: must not be negative", c.PoolWait))
	}
	if c.MaxReplacementBytes < 16 || c.MaxReasonBytes < 16 {
		errs = append(errs, fmt.Errorf("replacement cap %d, reason cap %d: must be at least 16", c.MaxReplacementBytes, c.MaxReasonBytes))
	}
	if c.MemoryLimitPages < 45 || c.MemoryLimitPages > 65536 {
		errs = append(errs, fmt.Errorf("memory limit %d pages: must be in [45,65536]", c.MemoryLimitPages))
	}
	if c.StreamTailMax < 16 {
		errs = append(errs, fmt.Errorf("stream tail %d: must be at least 16", c.StreamTailMax))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("validating rules config: %w", err)
	}
	return nil
}
