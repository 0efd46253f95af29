package events

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
)

// Dispatcher delivers events to webhook targets. Emit never blocks; Start
// launches the workers; Close stops them. It is safe for concurrent use.
type Dispatcher struct {
	cfg    DispatcherConfig
	log    hclog.Logger
	outbox *outbox // nil in memory mode
	queues []*targetQueue

	ingress chan Event

	mu      sync.Mutex // orders Start against deliveries created concurrently
	started bool
	baseSeq uint64 // outbox seqs up to this were counted by Start
	memSeq  atomic.Uint64

	closed     atomic.Bool
	closeOnce  sync.Once
	runCtx     context.Context
	cancelRun  context.CancelFunc
	stopFanout chan struct{}
	fanoutDone chan struct{}
	draining   chan struct{}
	workers    sync.WaitGroup

	delivered, failed, dropped, retried atomic.Uint64
	pending                             atomic.Int64
	// queued counts emitted events from Emit until fanout has handed them
	// to the targets' queues (and pending): an event taken off ingress is
	// still counted, so Stats never shows it as neither pending nor done.
	queued atomic.Int64
}

// Stats are running totals, shaped for Prometheus: the first four are
// counters, Pending is a gauge.
type Stats struct {
	Delivered uint64 // deliveries the target accepted
	Failed    uint64 // deliveries rejected (4xx) or given up after retries
	Dropped   uint64 // events or deliveries lost to a full queue or shutdown
	Retried   uint64 // failed attempts that were rescheduled
	Pending   uint64 // deliveries and emitted events not yet done
}

// NewDispatcher validates cfg and returns a Dispatcher. Call Start to begin
// delivering; events emitted before that wait in the queue.
func NewDispatcher(logger hclog.Logger, cfg DispatcherConfig) (*Dispatcher, error) {
	cfg.Targets = append([]Target(nil), cfg.Targets...)
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating webhook dispatcher config: %w", err)
	}
	if cfg.DB != nil && cfg.DB.IsReadOnly() {
		return nil, fmt.Errorf("%w: outbox database is read-only", ErrBadConfig)
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	runCtx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{
		cfg:        cfg,
		log:        logger.Named("events"),
		ingress:    make(chan Event, cfg.QueueSize),
		runCtx:     runCtx,
		cancelRun:  cancel,
		stopFanout: make(chan struct{}),
		fanoutDone: make(chan struct{}),
		draining:   make(chan struct{}),
	}
	if cfg.DB != nil {
		d.outbox = &outbox{db: cfg.DB, bucket: []byte(cfg.Bucket)}
	}
	for i, t := range cfg.Targets {
		client, err := newHTTPClient(t.tlsOptions(cfg.InsecureSkipVerify), cfg.WorkersPerTarget)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("%w: webhook %d: %w", ErrBadConfig, i, err)
		}
		d.queues = append(d.queues, &targetQueue{
			d:      d,
			client: client,
			target: t,
			key:    targetKey(t.URL),
			name:   fmt.Sprintf("#%d %s", i, redactURL(t.URL)),
			cap:    cfg.QueueSize,
			wake:   make(chan struct{}, 1),
			known:  make(map[uint64]struct{}),
		})
	}
	return d, nil
}

// Wants reports whether any target's filter matches eventType, so a caller
// can skip building an event nobody receives.
func (d *Dispatcher) Wants(eventType string) bool {
	for _, q := range d.queues {
		if Match(q.target.Events, eventType) {
			return true
		}
	}
	return false
}

// Emit queues ev for delivery and returns at once. An empty ID or zero Time
// is filled in. When the queue is full the oldest queued event is dropped
// and counted in Stats.Dropped; after Close every event is.
func (d *Dispatcher) Emit(ev Event) {
	if !d.Wants(ev.Type) {
		return
	}
	if d.closed.Load() {
		d.dropped.Add(1)
		return
	}
	fill(&ev, d.cfg.clock.Now())
	d.queued.Add(1)
	for {
		select {
		case d.ingress <- ev:
			return
		default:
		}
		select {
		case <-d.ingress:
			d.queued.Add(-1)
			d.dropped.Add(1)
		default:
		}
	}
}

// EmitTx writes ev's deliveries into the outbox inside tx, the caller's
// write transaction on the dispatcher's database, so that they commit or
// roll back with the caller's change. Workers see them once tx commits. It
// returns ErrNotDurable without a database and ErrForeignTx for a read-only
// transaction or one on another database.
func (d *Dispatcher) EmitTx(tx *bolt.Tx, ev Event) error {
	if d.outbox == nil {
		return ErrNotDurable
	}
	if !tx.Writable() || tx.DB() != d.outbox.db {
		return ErrForeignTx
	}
	fill(&ev, d.cfg.clock.Now())
	proto, qs, err := d.prepare(ev)
	if err != nil || len(qs) == 0 {
		return err
	}
	seq, err := d.outbox.insert(tx, proto, keysOf(qs))
	if err != nil {
		return fmt.Errorf("queueing %s event: %w", ev.Type, err)
	}
	tx.OnCommit(func() { d.enqueue(seq, proto, qs, true) })
	return nil
}

func fill(ev *Event, now time.Time) {
	if ev.ID == "" {
		ev.ID = NewID()
	}
	if ev.Time.IsZero() {
		ev.Time = now.UTC()
	}
}

// Start resumes deliveries left in the outbox and starts the workers. It
// returns ErrClosed after Close; calling it twice is a no-op.
func (d *Dispatcher) Start() error {
	if d.closed.Load() {
		return ErrClosed
	}
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return nil
	}
	if d.outbox != nil {
		keep := make(map[string]bool, len(d.queues))
		for _, q := range d.queues {
			keep[string(q.key)] = true
		}
		orphaned, pending, seq, err := d.outbox.prepare(keep)
		if err != nil {
			d.mu.Unlock()
			return err
		}
		if orphaned > 0 {
			d.log.Warn("dropped pending deliveries to webhooks no longer configured", "count", orphaned)
			d.failed.Add(uint64(orphaned))
		}
		d.baseSeq = seq
		d.pending.Add(int64(pending))
		for _, q := range d.queues {
			q.mu.Lock()
			q.spilled, q.spillFrom = true, 0
			q.mu.Unlock()
		}
		if pending > 0 {
			d.log.Info("resuming pending webhook deliveries", "count", pending)
		}
	}
	d.started = true
	d.mu.Unlock()

	go d.fanout()
	for _, q := range d.queues {
		for range d.cfg.WorkersPerTarget {
			d.workers.Add(1)
			go q.work()
		}
	}
	return nil
}

// Close stops accepting events, lets in-flight and due deliveries finish
// until ctx is done, then stops the workers. Durable deliveries left over
// stay in the outbox for the next Start; memory-only ones are counted as
// dropped. It never closes the database. It returns ctx's error if the
// deadline cut the flush short.
func (d *Dispatcher) Close(ctx context.Context) error {
	first := false
	d.closeOnce.Do(func() { first = true })
	if !first {
		return nil
	}
	d.closed.Store(true)
	defer d.cancelRun()

	d.mu.Lock()
	started := d.started
	d.mu.Unlock()
	var err error
	if started {
		close(d.stopFanout)
		err = d.wait(ctx, d.fanoutDone)
		close(d.draining)
		for _, q := range d.queues {
			q.signal()
		}
		done := make(chan struct{})
		go func() { d.workers.Wait(); close(done) }()
		if werr := d.wait(ctx, done); werr != nil && err == nil {
			err = werr
		}
		d.cancelRun()
		<-done
		<-d.fanoutDone
	} else if d.outbox != nil {
		// Never started: persist what was emitted so the next run sends it.
		for batch := d.drainIngress(nil, fanoutBatch); len(batch) > 0; batch = d.drainIngress(batch[:0], fanoutBatch) {
			d.dispatch(batch)
		}
	}

	var lost uint64
	for len(d.ingress) > 0 {
		<-d.ingress
		d.queued.Add(-1)
		lost++
	}
	for _, q := range d.queues {
		n := q.leftover()
		lost += uint64(n)
		d.pending.Add(-int64(n))
	}
	if lost > 0 {
		d.dropped.Add(lost)
		d.log.Warn("dropping undelivered memory-only events at shutdown", "count", lost)
	}
	if err != nil {
		return fmt.Errorf("flushing webhook deliveries: %w", err)
	}
	return nil
}

func (d *Dispatcher) wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Dispatcher) isDraining() bool {
	select {
	case <-d.draining:
		return true
	default:
		return false
	}
}

// Stats returns the running totals.
func (d *Dispatcher) Stats() Stats {
	pending := d.pending.Load() + d.queued.Load()
	return Stats{
		Delivered: d.delivered.Load(),
		Failed:    d.failed.Load(),
		Dropped:   d.dropped.Load(),
		Retried:   d.retried.Load(),
		Pending:   uint64(max(pending, 0)),
	}
}
