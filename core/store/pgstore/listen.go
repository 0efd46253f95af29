package pgstore

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// SubscribeBatch calls fn with the changes of every replica's writes, in
// revision order, shortly after they commit: the listener reads them with
// Changes when PostgreSQL delivers the commit's notice. After a lost
// connection it catches up from the last revision it delivered, so a
// subscriber misses nothing. fn runs on the listener's goroutine.
func (s *Store) SubscribeBatch(fn func([]store.Change)) (cancel func()) {
	s.subsMu.Lock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	s.subsMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.subsMu.Lock()
			delete(s.subs, id)
			s.subsMu.Unlock()
		})
	}
}

// SubscribePlugins calls fn with the registry's revision after every
// replica's plugin upload or delete.
func (s *Store) SubscribePlugins(fn func(revision uint64)) (cancel func()) {
	s.subsMu.Lock()
	id := s.nextSub
	s.nextSub++
	s.pluginSubs[id] = fn
	s.subsMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.subsMu.Lock()
			delete(s.pluginSubs, id)
			s.subsMu.Unlock()
		})
	}
}

func (s *Store) deliver(cs []store.Change) {
	if len(cs) == 0 {
		return
	}
	s.subsMu.Lock()
	fns := make([]func([]store.Change), 0, len(s.subs))
	for _, fn := range s.subs {
		fns = append(fns, fn)
	}
	s.subsMu.Unlock()
	for _, fn := range fns {
		fn(cs)
	}
}

func (s *Store) deliverPlugins(rev uint64) {
	s.subsMu.Lock()
	fns := make([]func(uint64), 0, len(s.pluginSubs))
	for _, fn := range s.pluginSubs {
		fns = append(fns, fn)
	}
	s.subsMu.Unlock()
	for _, fn := range fns {
		fn(rev)
	}
}

// listen holds one connection LISTENing on both channels until ctx ends,
// reconnecting with a short pause.
func (s *Store) listen(ctx context.Context, ready chan struct{}) {
	defer close(s.listenDone)
	last := s.revision.Load()
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, &last, ready)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("the change listener lost its connection; reconnecting", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, last *uint64, ready chan struct{}) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A LISTENing session must not go back to the pool.
	defer func() { _ = conn.Hijack().Close(context.Background()) }()
	for _, ch := range []string{chanTokens, chanPlugins} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	if ready != nil {
		select {
		case <-ready:
		default:
			close(ready)
		}
	}
	// Whatever committed while no one listened.
	s.catchUp(last)
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		rev, perr := strconv.ParseUint(n.Payload, 10, 64)
		switch n.Channel {
		case chanTokens:
			if perr == nil && rev <= *last {
				continue // read already, with an earlier notice
			}
			s.catchUp(last)
		case chanPlugins:
			if perr == nil {
				s.deliverPlugins(rev)
			}
		}
	}
}

func (s *Store) catchUp(last *uint64) {
	cs, cur, err := s.changes(*last, true)
	if errors.Is(err, store.ErrResyncRequired) {
		s.log.Warn("the change feed was pruned past what subscribers saw; they continue from the current revision", "from", *last)
		_, cur, err = s.Changes(0)
		cs = nil
	}
	if err != nil {
		s.log.Warn("reading changes for subscribers", "since", *last, "error", err)
		return
	}
	s.deliver(cs)
	*last = cur
}
