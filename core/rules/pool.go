package rules

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// pool is a bounded channel of warm instances of one module. Requests only
// take and return instances; broken or bloated ones are closed and a
// background goroutine builds their replacements, so a request never
// instantiates.
type pool struct {
	m      *module
	size   int
	ch     chan *instance
	refill chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup

	mu  sync.Mutex // guards all
	all map[*instance]struct{}
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

// start instantiates one instance now, so a module that cannot start fails
// at load, and the rest in the background.
func (p *pool) start(ctx context.Context) error {
	inst, err := p.m.newInstance(ctx)
	if err != nil {
		return err
	}
	p.track(inst)
	p.ch <- inst
	for i := 1; i < p.size; i++ {
		p.refill <- struct{}{}
	}
	p.wg.Add(1)
	go p.refiller()
	return nil
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
			inst, err := p.m.newInstance(context.Background())
			if err == nil {
				p.track(inst)
				p.ch <- inst
				backoff = 10 * time.Millisecond
				break
			}
			p.m.log.Error("replacing plugin instance failed", "error", err, "retry_in", backoff)
			select {
			case <-p.done:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// get takes a warm instance, waiting at most the call timeout when all are
// busy.
func (p *pool) get(ctx context.Context) (*instance, error) {
	select {
	case inst := <-p.ch:
		return inst, nil
	default:
	}
	t := time.NewTimer(p.m.h.cfg.CallTimeout)
	defer t.Stop()
	select {
	case inst := <-p.ch:
		return inst, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for plugin %q: %w", p.m.name, ctx.Err())
	case <-t.C:
		return nil, fmt.Errorf("waiting for plugin %q: %w", p.m.name, ErrPoolExhausted)
	case <-p.done:
		return nil, ErrClosed
	}
}

// put returns inst, or replaces it when it trapped, timed out or grew past
// the recycle threshold.
func (p *pool) put(inst *instance) {
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

func (p *pool) close(ctx context.Context) {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
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
