package rules

import (
	"sync"
	"time"
)

// watchdog stops sandboxed guests that overrun their deadline. One ticker
// serves every sandboxed instance; a call only stores its deadline, which
// costs less than a context with a timer per call (see RATIONALE.md).
type watchdog struct {
	mu    sync.Mutex
	insts map[*instance]struct{}
	stopc chan struct{}
	wg    sync.WaitGroup
}

func (w *watchdog) start(timeout time.Duration) {
	w.insts = map[*instance]struct{}{}
	w.stopc = make(chan struct{})
	tick := max(timeout/4, time.Millisecond)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-w.stopc:
				return
			case now := <-t.C:
				w.sweep(now.UnixNano())
			}
		}
	}()
}

func (w *watchdog) sweep(now int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for inst := range w.insts {
		if d := inst.deadline.Load(); d != 0 && now > d {
			inst.stop()
		}
	}
}

func (w *watchdog) add(inst *instance) {
	w.mu.Lock()
	if w.insts != nil {
		w.insts[inst] = struct{}{}
	}
	w.mu.Unlock()
}

func (w *watchdog) remove(inst *instance) {
	w.mu.Lock()
	delete(w.insts, inst)
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	if w.stopc == nil {
		return
	}
	close(w.stopc)
	w.wg.Wait()
}
