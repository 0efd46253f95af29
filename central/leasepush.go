package central

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

// Leaser hands out named leases that one process holds at a time, freed
// when that process dies; pgstore.Leases is one.
type Leaser interface {
	TryLock(ctx context.Context, name string) (bool, error)
	Check(ctx context.Context) error
}

// DefaultLeaseInterval is how often a replica tries to take the push
// targets no one serves, so a dead replica's targets move within about
// that long.
const DefaultLeaseInterval = time.Second

// LeasePusherOptions configures a LeasePusher.
type LeasePusherOptions struct {
	Targets []events.Target
	// Spool is a bbolt file of this replica's own for the pending
	// notices; it needs no durability beyond the process, since a
	// replica that takes a target over announces the current revision.
	Spool  *bbolt.DB
	Leases Leaser
	// Revision reads the token feed's current revision.
	Revision func() uint64
	// Interval between lease attempts; default DefaultLeaseInterval.
	Interval time.Duration
	Logger   hclog.Logger
}

// LeasePusher pushes token and plugin changes to the targets whose lease
// this replica holds. With several central replicas on one PostgreSQL,
// each target is served by exactly one replica at a time: the holder of
// its lease. A change committed by any replica reaches the holder through
// the store's notices (Tokens, Plugins). The durable push intent is the
// revision itself: whoever takes a lease first announces the current
// revision, so a change whose push died with its replica is still
// announced.
type LeasePusher struct {
	o   LeasePusherOptions
	log hclog.Logger

	mu      sync.Mutex
	held    map[int]*events.Notifier
	stopped bool

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// NewLeasePusher validates o; Start begins taking leases.
func NewLeasePusher(o LeasePusherOptions) (*LeasePusher, error) {
	if o.Spool == nil || o.Leases == nil || o.Revision == nil {
		return nil, ErrIncomplete
	}
	if o.Interval <= 0 {
		o.Interval = DefaultLeaseInterval
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	// Build each target's notifier once up front, so a bad target fails
	// the start rather than the first takeover.
	for i, t := range o.Targets {
		if _, err := events.NewNotifier(hclog.NewNullLogger(), events.NotifierConfig{DB: o.Spool, Targets: []events.Target{t}}); err != nil {
			return nil, fmt.Errorf("webhook %d: %w", i, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &LeasePusher{o: o, log: o.Logger.Named("leasepush"), held: map[int]*events.Notifier{},
		ctx: ctx, cancel: cancel, done: make(chan struct{})}, nil
}

// leaseName keeps the target's URL (it may carry a credential) out of
// the lock table.
func leaseName(t events.Target) string {
	sum := sha256.Sum256([]byte(t.URL))
	return "push/" + hex.EncodeToString(sum[:16])
}

// Start takes the free leases now and keeps trying every Interval.
func (p *LeasePusher) Start() {
	p.tick()
	go func() {
		defer close(p.done)
		tk := time.NewTicker(p.o.Interval)
		defer tk.Stop()
		for {
			select {
			case <-p.ctx.Done():
				return
			case <-tk.C:
				p.tick()
			}
		}
	}()
}

func (p *LeasePusher) tick() {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if len(p.held) > 0 {
		if err := p.o.Leases.Check(ctx); err != nil {
			p.log.Warn("lost the push leases; another replica takes the targets over", "targets", len(p.held), "error", err)
			p.dropAll()
		}
	}
	for i, t := range p.o.Targets {
		if p.held[i] != nil {
			continue
		}
		ok, err := p.o.Leases.TryLock(ctx, leaseName(t))
		if err != nil {
			p.log.Warn("taking a push lease", "webhook", i, "error", err)
			return
		}
		if !ok {
			continue
		}
		if err := p.take(i, t); err != nil {
			p.log.Error("starting pushes for a leased target", "webhook", i, "error", err)
		}
	}
}

// take starts the notifier of target i and announces the current
// revision, which covers whatever its previous holder had not pushed.
func (p *LeasePusher) take(i int, t events.Target) error {
	n, err := events.NewNotifier(p.o.Logger, events.NotifierConfig{DB: p.o.Spool, Targets: []events.Target{t},
		Bucket: fmt.Sprintf("%s_%d", events.DefaultNoticeBucket, i)})
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return err
	}
	p.held[i] = n
	rev := p.o.Revision()
	p.log.Info("serving pushes to a webhook target", "webhook", i, "revision", rev)
	if n.Wants(events.TokenSync) {
		ev, err := events.New(events.TokenSync, events.SourceCentral, rev, nil)
		if err != nil {
			return err
		}
		return n.Note(ev)
	}
	return nil
}

func (p *LeasePusher) dropAll() {
	for i, n := range p.held {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = n.Close(ctx)
		cancel()
		delete(p.held, i)
	}
}

// Tokens pushes the last of a batch of committed token changes (any
// replica's) to the held targets.
func (p *LeasePusher) Tokens(cs []store.Change) {
	if len(cs) == 0 {
		return
	}
	last := cs[len(cs)-1]
	kind, data := tokenEvent(last)
	p.note(kind, last.Revision, data)
}

// Plugins pushes a registry revision (any replica's upload or delete).
func (p *LeasePusher) Plugins(rev uint64) { p.note(events.PluginUploaded, rev, nil) }

func (p *LeasePusher) note(kind string, rev uint64, data any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.held) == 0 {
		return
	}
	ev, err := events.New(kind, events.SourceCentral, rev, data)
	if err != nil {
		p.log.Warn("building a push event", "type", kind, "error", err)
		return
	}
	for i, n := range p.held {
		if !n.Wants(kind) {
			continue
		}
		if err := n.Note(ev); err != nil {
			p.log.Error("recording a push; the target hears of it at its next poll", "webhook", i, "error", err)
		}
	}
}

// Held returns the indexes of the targets this replica serves.
func (p *LeasePusher) Held() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, 0, len(p.held))
	for i := range p.o.Targets {
		if p.held[i] != nil {
			out = append(out, i)
		}
	}
	return out
}

// Stats reports the held targets' delivery figures.
func (p *LeasePusher) Stats() []events.TargetStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []events.TargetStats
	for i := range p.o.Targets {
		if n := p.held[i]; n != nil {
			out = append(out, n.Stats()...)
		}
	}
	return out
}

// Close stops pushing; the leases go with the store's lease session.
func (p *LeasePusher) Close(ctx context.Context) error {
	p.cancel()
	p.mu.Lock()
	p.stopped = true
	p.dropAll()
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-ctx.Done():
	}
	return nil
}
