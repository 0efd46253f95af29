package rules

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// pool is a bounded channel of warm instances of one module. Requests only
// take and return instances; broken or bloated ones are closed and a
// background goroutine builds their replacements, so a request never
// instantiates.
//
// The pool starts with size instances. Every Config.IdleTrim it closes the
// idle instances beyond the most that were in use at once during the last
// interval, keeping at least one: an idle proxy holds one instance per
// module, not size (a Go-built instance is several MiB). A get that finds
// no idle instance asks the refiller for one more, up to size, and takes
// whichever comes first, a returned instance or the new one.
type pool struct {
	m        *module
	size     int
	ch       chan *instance
	refill   chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	inUse   atomic.Int32 // gets in progress and instances checked out
	peak    atomic.Int32 // most in use at once since the last trim
	closing atomic.Bool  // no more gets: the host is closing

	mu  sync.Mutex // guards all and n
	all map[*instance]struct{}
	n   int // instances alive or being built, at most size
}

func newPool(m *module, size int) *pool {
	return &pool{
		m:      m,
		size:   size,
		ch:     make(chan *instance, size),
		refill: make(chan struct{}, size),
		done:   make(chan struct{}),
		all:    map[*instance]struct{}{},
	}
}

// start fills the pool in the background; the module is ready when its
// first instance is up.
func (p *pool) start() {
	p.mu.Lock()
	p.n = p.size
	p.mu.Unlock()
	for i := 0; i < p.size; i++ {
		p.refill <- struct{}{}
	}
	p.wg.Add(2)
	go p.refiller()
	go p.trimmer()
}

// grow asks the refiller for one more instance when the pool holds fewer
// than size: a get found none idle.
func (p *pool) grow() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n >= p.size {
		return
	}
	select {
	case p.refill <- struct{}{}: // never full: pending builds are at most n < size
		p.n++
	default:
	}
}

// trimmer trims the pool every Config.IdleTrim.
func (p *pool) trimmer() {
	defer p.wg.Done()
	if p.m.h.cfg.IdleTrim < 0 {
		return
	}
	t := time.NewTicker(p.m.h.cfg.IdleTrim)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			if n := p.trim(); n > 0 {
				p.m.log.Debug("closed idle plugin instances", "closed", n)
			}
		}
	}
}

// trim closes idle instances beyond the most that were in use at once
// since the last trim (at least one stays) and returns how many it closed.
func (p *pool) trim() int {
	keep := max(1, int(p.peak.Swap(p.inUse.Load())))
	closed := 0
	for {
		p.mu.Lock()
		if p.n <= keep {
			p.mu.Unlock()
			return closed
		}
		var inst *instance
		select {
		case inst = <-p.ch:
			p.n--
		default:
		}
		p.mu.Unlock()
		if inst == nil {
			return closed // the rest are in use or still being built
		}
		p.untrack(inst)
		inst.close(context.Background())
		closed++
	}
}

// enter counts a get in progress (for the trimmer, and for Close, which
// waits for instances in use before their memory is freed); false when
// the pool is closing. Every successful enter is matched by leave, in put
// or when the get fails.
func (p *pool) enter() bool {
	n := p.inUse.Add(1)
	if p.closing.Load() {
		p.leave()
		return false
	}
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			return true
		}
	}
}

func (p *pool) leave() { p.inUse.Add(-1) }

// quiesce stops new gets and waits, within ctx, until no instance is in
// use; false when ctx ended first.
func (p *pool) quiesce(ctx context.Context) bool {
	p.closing.Store(true)
	if p.inUse.Load() == 0 {
		return true
	}
	p.stop()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for p.inUse.Load() != 0 {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// live is the number of instances alive or being built.
func (p *pool) live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func (p *pool) track(inst *instance) {
	p.mu.Lock()
	p.all[inst] = struct{}{}
	p.mu.Unlock()
	if !p.m.trusted {
		p.m.h.watch.add(inst)
	}
}

func (p *pool) untrack(inst *instance) {
	p.mu.Lock()
	delete(p.all, inst)
	p.mu.Unlock()
	if !p.m.trusted {
		p.m.h.watch.remove(inst)
	}
}

func (p *pool) refiller() {
	defer p.wg.Done()
	backoff := 10 * time.Millisecond
	for {
		select {
		case <-p.done:
			return
		case <-p.refill:
		}
		for {
			inst, err := p.m.newInstance(p.m.h.ctx)
			if err == nil {
				p.track(inst)
				p.ch <- inst
				p.m.instanceUp()
				backoff = 10 * time.Millisecond
				break
			}
			if p.m.h.closed.Load() {
				return
			}
			p.m.fail(err, false)
			p.m.log.Warn("starting a plugin instance failed", "error", Cause(err), "retry_in", backoff)
			select {
			case <-p.done:
				return
			case <-time.After(backoff):
			}
			// A module that never started (a start function that loops or
			// traps) is retried rarely: each attempt costs up to InitTimeout.
			ceiling := 5 * time.Second
			if !p.m.up.Load() {
				ceiling = 30 * time.Second
			}
			backoff = min(2*backoff, ceiling)
		}
	}
}

// get takes a warm instance, waiting at most Config.PoolWait when all are
// busy or the module is still loading.
func (p *pool) get(ctx context.Context, obs RuleObserver) (*instance, error) {
	if !p.enter() {
		return nil, ErrClosed
	}
	select {
	case inst := <-p.ch:
		return inst, nil
	default:
	}
	inst, err := p.getSlow(ctx, obs)
	if err != nil {
		p.leave()
	}
	return inst, err
}

func (p *pool) getSlow(ctx context.Context, obs RuleObserver) (*instance, error) {
	select {
	case <-p.m.dead:
		return nil, fmt.Errorf("%w: %w", ErrNotReady, p.m.loadErr())
	default:
	}
	start := time.Now()
	if err := p.firstLoad(ctx); err != nil {
		return nil, err
	}
	t := time.NewTimer(p.m.h.cfg.PoolWait)
	defer t.Stop()
	inst, err := p.wait(ctx, t.C)
	obs.PoolWait(time.Since(start))
	return inst, err
}

// firstLoadWait bounds how long a check waits for a module that is still
// loading for the first time (compiling takes about 1.4 s cold, 55 ms from
// the cache); once the load has an outcome, checks wait PoolWait at most.
const firstLoadWait = 15 * time.Second

func (p *pool) firstLoad(ctx context.Context) error {
	select {
	case <-p.m.loaded:
		return nil
	default:
	}
	t := time.NewTimer(firstLoadWait)
	defer t.Stop()
	select {
	case <-p.m.loaded:
		return nil
	case <-t.C:
		return fmt.Errorf("plugin %q: %w: still loading after %s", p.m.name, ErrNotReady, firstLoadWait)
	case <-ctx.Done():
		return fmt.Errorf("waiting for plugin %q: %w", p.m.name, ctx.Err())
	case <-p.done:
		return ErrClosed
	}
}

// getCtx takes an instance, waiting as long as ctx allows.
func (p *pool) getCtx(ctx context.Context) (*instance, error) {
	if !p.enter() {
		return nil, ErrClosed
	}
	inst, err := p.wait(ctx, nil)
	if err != nil {
		p.leave()
	}
	return inst, err
}

func (p *pool) wait(ctx context.Context, timeout <-chan time.Time) (*instance, error) {
	select {
	case inst := <-p.ch:
		return inst, nil
	default:
	}
	if p.m.up.Load() {
		p.grow()
	}
	select {
	case inst := <-p.ch:
		return inst, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for plugin %q: %w", p.m.name, ctx.Err())
	case <-timeout:
		if !p.m.up.Load() {
			if err := p.m.loadErr(); err != nil {
				return nil, fmt.Errorf("plugin %q: %w: %w", p.m.name, ErrNotReady, err)
			}
			return nil, fmt.Errorf("plugin %q: %w: still loading", p.m.name, ErrNotReady)
		}
		return nil, fmt.Errorf("waiting for plugin %q: %w", p.m.name, ErrPoolExhausted)
	case <-p.m.dead:
		return nil, fmt.Errorf("%w: %w", ErrNotReady, p.m.loadErr())
	case <-p.done:
		return nil, ErrClosed
	}
}

// put returns inst, or replaces it when it trapped, timed out or grew past
// the recycle threshold.
func (p *pool) put(inst *instance) {
	defer p.leave() // after the instance is back or closed: Close waits for it
	if !inst.broken && uint64(inst.mem.Size()) <= p.m.h.cfg.RecycleBytes {
		select {
		case <-p.done:
		default:
			p.ch <- inst
			return
		}
	}
	if inst.broken {
		p.m.log.Debug("recycling plugin instance", "timed_out", inst.timedOut.Load())
	}
	p.discard(inst)
}

func (p *pool) discard(inst *instance) {
	p.untrack(inst)
	inst.close(context.Background())
	select {
	case <-p.done:
	case p.refill <- struct{}{}:
	}
}

// stop ends the refiller and the trimmer and wakes every waiting get.
func (p *pool) stop() { p.stopOnce.Do(func() { close(p.done) }) }

// close stops the pool and closes its instances: call quiesce first, so
// none is in use.
func (p *pool) close(ctx context.Context) {
	p.closing.Store(true)
	p.stop()
	p.wg.Wait()
	p.mu.Lock()
	all := p.all
	p.all = map[*instance]struct{}{}
	p.mu.Unlock()
	for inst := range all {
		if !p.m.trusted {
			p.m.h.watch.remove(inst)
		}
		inst.close(ctx)
	}
}
