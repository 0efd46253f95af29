package rules

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// instance is one warm module instance. It is used by one caller at a time
// (it is checked out of its pool), so only the watchdog fields are atomic.
type instance struct {
	m      *module
	mod    api.Module
	mem    api.Memory
	ctx    context.Context    // carries the instance to host functions
	cancel context.CancelFunc // sandboxed: the watchdog's stop (nil when trusted)

	alloc, free, configureFn, checkFn api.Function
	checkManyFn                       api.Function // optional: nil checks rule by rule
	stack                             [5]uint64
	results                           [][]byte // checkMany's per-rule views
	cur                               []Text   // the texts of the check in progress (matcher_find_texts)
	checking                          bool     // a check is in progress (cur may be empty)

	inPtr, inCap uint32
	configured   []uint64 // bitset of configuration ids

	sink     sink    // match records for matcher_find
	lastErr  string  // last host-function error, for the guest's last_error
	compiled []int32 // matcher handles compiled during the current configure

	deadline atomic.Int64 // unix nanos while in a call (sandboxed only); 0 when idle
	timedOut atomic.Bool
	broken   bool
}

type instanceKey struct{}

func instanceFrom(ctx context.Context) *instance {
	inst, _ := ctx.Value(instanceKey{}).(*instance)
	return inst
}

// errTimeout marks a call stopped by the watchdog.
var errTimeout = errors.New("plugin call exceeded its deadline")

func (m *module) newInstance(parent context.Context) (*instance, error) {
	inst := &instance{m: m}
	base := parent
	if !m.trusted {
		// One cancelable context per instance life: the watchdog cancels it
		// and wazero's own per-call watcher stops the guest safely (closing
		// a running module from outside would free resources in use).
		base, inst.cancel = context.WithCancel(base)
		// Start functions are guest code too: the same watchdog bounds them.
		inst.deadline.Store(time.Now().Add(m.h.cfg.InitTimeout).UnixNano())
		m.h.watch.add(inst)
	}
	inst.ctx = context.WithValue(base, instanceKey{}, inst)
	mod, err := m.rt.InstantiateModule(experimental.WithMemoryAllocator(inst.ctx, m.h.alloc), m.compiled, wazeroModuleConfig())
	inst.deadline.Store(0)
	if err != nil {
		if !m.trusted {
			m.h.watch.remove(inst)
			inst.cancel()
		}
		if mod != nil {
			_ = mod.Close(context.Background())
		}
		if inst.timedOut.Load() {
			return nil, fmt.Errorf("instantiating: %w: start function exceeded %s", errTimeout, m.h.cfg.InitTimeout)
		}
		return nil, fmt.Errorf("instantiating: %w", err)
	}
	inst.mod = mod
	inst.mem = mod.ExportedMemory(abi.ExportMemory)
	inst.alloc = mod.ExportedFunction(abi.ExportAlloc)
	inst.free = mod.ExportedFunction(abi.ExportFree)
	inst.configureFn = mod.ExportedFunction(abi.ExportConfigure)
	inst.checkFn = mod.ExportedFunction(abi.ExportCheck)
	if f := mod.ExportedFunction(abi.ExportCheckMany); f != nil && hasSig(f.Definition(), checkManySig) {
		inst.checkManyFn = f
	}
	if inst.mem == nil || inst.alloc == nil || inst.free == nil || inst.configureFn == nil || inst.checkFn == nil {
		inst.close(context.Background())
		if !m.trusted {
			m.h.watch.remove(inst)
		}
		return nil, fmt.Errorf("instantiating: %w: missing exports", ErrBadModule)
	}
	return inst, nil
}

func (inst *instance) close(ctx context.Context) {
	if inst.mod != nil {
		_ = inst.mod.Close(ctx)
	}
	if inst.cancel != nil {
		inst.cancel()
	}
}

// stop is the watchdog's: it cancels the instance's context, which the
// guest's termination checks observe.
func (inst *instance) stop() {
	inst.timedOut.Store(true)
	inst.cancel()
}

// call runs fn with the instance's stack; a trap, a guest exit or a
// watchdog stop marks the instance broken.
func (inst *instance) call(fn api.Function) error {
	sandboxed := !inst.m.trusted
	if sandboxed {
		inst.deadline.Store(time.Now().Add(inst.m.h.cfg.CallTimeout).UnixNano())
	}
	err := fn.CallWithStack(inst.ctx, inst.stack[:])
	if sandboxed {
		inst.deadline.Store(0)
	}
	if err != nil {
		inst.broken = true
		if inst.timedOut.Load() {
			return fmt.Errorf("%w: %w", ErrPluginFailed, errTimeout)
		}
		return fmt.Errorf("%w: %w", ErrPluginFailed, err)
	}
	return nil
}

// input returns a guest buffer of n bytes (a view into guest memory),
// growing the instance's input buffer when needed.
func (inst *instance) input(n int) ([]byte, error) {
	if n > 1<<30 {
		return nil, fmt.Errorf("%w: input of %d bytes too large", ErrPluginFailed, n)
	}
	if uint32(n) > inst.inCap {
		c := max(uint32(n), 2*inst.inCap, 4096)
		if inst.inPtr != 0 {
			inst.stack[0] = uint64(inst.inPtr)
			if err := inst.call(inst.free); err != nil {
				return nil, err
			}
		}
		inst.inPtr, inst.inCap = 0, 0
		inst.stack[0] = uint64(c)
		if err := inst.call(inst.alloc); err != nil {
			return nil, err
		}
		p := uint32(inst.stack[0])
		if p == 0 {
			inst.broken = true
			return nil, fmt.Errorf("%w: guest could not allocate %d bytes", ErrPluginFailed, c)
		}
		inst.inPtr, inst.inCap = p, c
	}
	b, ok := inst.mem.Read(inst.inPtr, uint32(n))
	if !ok {
		inst.broken = true
		return nil, fmt.Errorf("%w: guest buffer out of range", ErrPluginFailed)
	}
	return b, nil
}

func (inst *instance) isConfigured(id uint32) bool {
	w := int(id / 64)
	return w < len(inst.configured) && inst.configured[w]&(1<<(id%64)) != 0
}

// configure runs the guest's configure for c; learn records the guest's
// detectors and match bound in c (first configuration only).
func (inst *instance) configure(c *modConfig, learn bool) error {
	buf, err := inst.input(len(c.blob))
	if err != nil {
		return err
	}
	copy(buf, c.blob)
	inst.compiled = inst.compiled[:0]
	inst.stack[0], inst.stack[1], inst.stack[2] = uint64(c.id), uint64(inst.inPtr), uint64(len(c.blob))
	if err := inst.call(inst.configureFn); err != nil {
		return err
	}
	ptr, n := abi.Unpack(inst.stack[0])
	out, ok := inst.mem.Read(ptr, n)
	if !ok || n < 4 {
		inst.broken = true
		return fmt.Errorf("%w: malformed configure result", ErrPluginFailed)
	}
	if abi.U32(out, 0) != abi.ConfigOK {
		return fmt.Errorf("%w: %s", ErrBadRule, out[4:])
	}
	if n < 8 {
		inst.broken = true
		return fmt.Errorf("%w: malformed configure result", ErrPluginFailed)
	}
	if learn {
		maxMatch := int(abi.U32(out, 4))
		dets, ok := abi.DecodeList(out[8:])
		if !ok {
			inst.broken = true
			return fmt.Errorf("%w: malformed detector list", ErrPluginFailed)
		}
		if maxMatch == 0 {
			maxMatch = inst.m.h.matchers.maxLen(inst.compiled)
		}
		c.detectors, c.maxMatch = dets, maxMatch
	}
	w := int(c.id / 64)
	for len(inst.configured) <= w {
		inst.configured = append(inst.configured, 0)
	}
	inst.configured[w] |= 1 << (c.id % 64)
	return nil
}

// check encodes texts into the guest, runs the check and returns a view of
// the result (nil for allow). The view is valid until the next call.
func (inst *instance) check(c *modConfig, phase, flags uint32, texts []Text) ([]byte, error) {
	if !inst.isConfigured(c.id) {
		if err := inst.configure(c, false); err != nil {
			return nil, err
		}
	}
	n, err := inst.encodeInput(texts, 0)
	if err != nil {
		return nil, err
	}
	inst.stack[0], inst.stack[1], inst.stack[2] = uint64(c.id), uint64(phase), uint64(flags)
	inst.stack[3], inst.stack[4] = uint64(inst.inPtr), uint64(n)
	inst.cur, inst.checking = texts, true
	err = inst.call(inst.checkFn)
	inst.cur, inst.checking = nil, false
	if err != nil {
		return nil, err
	}
	if inst.stack[0] == 0 {
		return nil, nil
	}
	ptr, rn := abi.Unpack(inst.stack[0])
	out, ok := inst.mem.Read(ptr, rn)
	if !ok {
		inst.broken = true
		return nil, fmt.Errorf("%w: result out of guest memory", ErrPluginFailed)
	}
	return out, nil
}

// checkMany checks texts with every rule of rules in one guest call (the
// module's optional ExportCheckMany): the texts are copied and decoded
// once. It returns one view per rule (nil for allow), valid until the next
// call. Any answer that breaks the Many layout fails the whole call.
func (inst *instance) checkMany(rules []*rule, phase uint32, texts []Text) ([][]byte, error) {
	for _, r := range rules {
		if !inst.isConfigured(r.cfg.id) {
			if err := inst.configure(r.cfg, false); err != nil {
				return nil, err
			}
		}
	}
	list := 4 + len(rules)*abi.CheckListEntrySize
	n, err := inst.encodeInput(texts, list)
	if err != nil {
		return nil, err
	}
	buf, err := inst.input(n + list)
	if err != nil {
		return nil, err
	}
	abi.PutU32(buf, n, uint32(len(rules)))
	for i, r := range rules {
		e := n + 4 + i*abi.CheckListEntrySize
		abi.PutU32(buf, e, r.cfg.id)
		abi.PutU32(buf, e+4, r.flags)
	}
	inst.stack[0], inst.stack[1], inst.stack[2], inst.stack[3] = uint64(phase), uint64(inst.inPtr), uint64(n+list), uint64(n)
	inst.cur, inst.checking = texts, true
	err = inst.call(inst.checkManyFn)
	inst.cur, inst.checking = nil, false
	if err != nil {
		return nil, err
	}
	ptr, rn := abi.Unpack(inst.stack[0])
	out, ok := inst.mem.Read(ptr, rn)
	if !ok || inst.stack[0] == 0 || len(out) < abi.ManyHeaderSize || int(abi.U32(out, 0)) != len(rules) {
		inst.broken = true
		return nil, fmt.Errorf("%w: malformed result list", ErrPluginFailed)
	}
	res := inst.results[:0]
	off := abi.ManyHeaderSize
	for range rules {
		if len(out)-off < 4 {
			inst.broken = true
			return nil, fmt.Errorf("%w: malformed result list", ErrPluginFailed)
		}
		l := int(abi.U32(out, off))
		off += 4
		if l < 0 || l > len(out)-off {
			inst.broken = true
			return nil, fmt.Errorf("%w: malformed result list", ErrPluginFailed)
		}
		var r []byte
		if l > 0 {
			r = out[off : off+l : off+l]
		}
		res = append(res, r)
		off += l
	}
	inst.results = res
	return res, nil
}

// encodeInput writes the Input layout of texts at the start of the
// instance's input buffer, with extra bytes of room after it, and returns
// the Input's length.
func (inst *instance) encodeInput(texts []Text, extra int) (int, error) {
	n := abi.InputHeaderSize + len(texts)*abi.InputEntrySize
	for i := range texts {
		n += len(texts[i].Data)
	}
	buf, err := inst.input(n + extra)
	if err != nil {
		return 0, err
	}
	abi.PutU32(buf, 0, uint32(len(texts)))
	off := abi.InputHeaderSize + len(texts)*abi.InputEntrySize
	for i := range texts {
		t := &texts[i]
		e := abi.InputHeaderSize + i*abi.InputEntrySize
		abi.PutU32(buf, e, uint32(off))
		abi.PutU32(buf, e+4, uint32(len(t.Data)))
		buf[e+8], buf[e+9], buf[e+10], buf[e+11] = abi.RoleCode(t.Role), abi.KindCode(t.Kind), 0, 0
		off += copy(buf[off:], t.Data)
	}
	return n, nil
}
