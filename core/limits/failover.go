package limits

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// FailMode says what a Failover does while Redis is unreachable.
type FailMode uint8

// Fail modes.
const (
	// FailClosed refuses every request with a KindUnavailable *LimitError
	// (the proxy answers 503). The default: no request escapes its limits.
	FailClosed FailMode = iota
	// FailOpen admits requests against this proxy's local counters and adds
	// their usage to Redis when it is back.
	FailOpen
)

// ParseFailMode parses the fail_mode setting: "closed" (or empty) or "open".
func ParseFailMode(s string) (FailMode, error) {
	switch s {
	case "", "closed":
		return FailClosed, nil
	case "open":
		return FailOpen, nil
	}
	return FailClosed, fmt.Errorf("%w: fail_mode %q is neither \"closed\" nor \"open\"", ErrConfig, s)
}

// String returns "closed" or "open".
func (m FailMode) String() string {
	if m == FailOpen {
		return "open"
	}
	return "closed"
}

// Defaults for FailoverOption.
const (
	DefaultProbeInterval = time.Second
	DefaultMaxPending    = 100_000
	// DefaultProbeTimeout bounds one outage probe. It is longer than a call
	// timeout on purpose: a proxy whose CPU is saturated answers its own
	// calls late, and must not take that for a dead Redis.
	DefaultProbeTimeout = time.Second
	// DefaultProbeFailures is how many probes in a row must fail before
	// Redis is declared down.
	DefaultProbeFailures = 3
)

// WithProbeTimeout sets the timeout of one outage probe (default 1s).
func WithProbeTimeout(d time.Duration) FailoverOption {
	return func(f *Failover) {
		if d > 0 {
			f.probeTimeout = d
		}
	}
}

// WithProbeFailures sets how many consecutive failed probes make an outage
// (default 3).
func WithProbeFailures(n int) FailoverOption {
	return func(f *Failover) {
		if n > 0 {
			f.probeFailures = int32(n)
		}
	}
}

// FailoverOption tunes NewFailover.
type FailoverOption func(*Failover)

// WithProbeInterval sets how often an unreachable Redis is probed, and how
// often owed usage is pushed when it is reachable (default 1s).
func WithProbeInterval(d time.Duration) FailoverOption {
	return func(f *Failover) {
		if d > 0 {
			f.probeEvery = d
		}
	}
}

// WithMaxPending caps the Redis work (settles, cancels, usage batches) queued
// during an outage; beyond it the oldest is dropped and counted (default 100000).
func WithMaxPending(n int) FailoverOption {
	return func(f *Failover) {
		if n > 0 {
			f.maxPending = n
		}
	}
}

// FailoverStats are counters for metrics.
type FailoverStats struct {
	Degraded      bool
	Outages       uint64 // times Redis became unreachable
	LocalAcquires uint64 // requests admitted on local counters (open mode)
	Unavailable   uint64 // requests refused for unavailability (closed mode)
	Pending       int    // Redis work waiting for the end of the outage
	Dropped       uint64 // pending work dropped at the cap: usage lost to Redis
	SyncErrors    uint64 // pending work Redis rejected (not for unreachability)
}

// Failover is a Redis limiter that survives Redis outages. Unreachable means
// timeouts, connection errors and not-ready servers, never a script error.
// While degraded it skips Redis (no request waits on a dead server) and
// either refuses (FailClosed) or counts locally (FailOpen); a probe loop
// notices recovery, delivers the queued work — settles of Redis leases,
// cancels of acquires whose outcome is unknown, usage settled locally — and
// only then switches back. Leases granted locally settle locally.
type Failover struct {
	redis      *Redis
	local      *Memory
	mode       FailMode
	log        hclog.Logger
	probeEvery time.Duration
	maxPending int

	probeTimeout  time.Duration
	probeFailures int32
	failedProbes  atomic.Int32 // consecutive failed probes while not degraded

	degraded      atomic.Bool
	since         atomic.Int64 // outage start, unix ns
	cause         atomic.Value // outageCause
	outages       atomic.Uint64
	localAcquires atomic.Uint64
	unavailable   atomic.Uint64
	dropped       atomic.Uint64
	syncErrors    atomic.Uint64
	batchSeq      atomic.Uint64

	mu      sync.Mutex
	pending []pendingOp

	epochSeen string // the store's epoch as this proxy knows it; loop only
	Lost      atomic.Uint64

	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type outageCause struct{ err error }

// pendingOp is Redis work deferred by an outage: a lease to settle (used 0
// cancels an acquire that may have been applied), or a usage batch.
type pendingOp struct {
	lease *Lease
	used  int64
	batch *syncBatch
}

// NewFailover combines primary and local. local must not be in use yet: its
// settled usage is from now on tracked as owed to Redis. The Failover owns
// both and closes them.
func NewFailover(primary *Redis, local *Memory, mode FailMode, logger hclog.Logger, opts ...FailoverOption) *Failover {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	local.trackUnsynced = true
	f := &Failover{
		redis:      primary,
		local:      local,
		mode:       mode,
		log:        logger.Named("limits"),
		probeEvery: DefaultProbeInterval,
		maxPending: DefaultMaxPending,

		probeTimeout:  DefaultProbeTimeout,
		probeFailures: DefaultProbeFailures,
		wake:          make(chan struct{}, 1),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
	}
	for _, o := range opts {
		o(f)
	}
	go f.loop()
	return f
}

// Degraded reports whether Redis is currently treated as unreachable.
func (f *Failover) Degraded() bool { return f.degraded.Load() }

// Stats returns the counters.
func (f *Failover) Stats() FailoverStats {
	f.mu.Lock()
	n := len(f.pending)
	f.mu.Unlock()
	return FailoverStats{
		Degraded:      f.degraded.Load(),
		Outages:       f.outages.Load(),
		LocalAcquires: f.localAcquires.Load(),
		Unavailable:   f.unavailable.Load(),
		Pending:       n,
		Dropped:       f.dropped.Load(),
		SyncErrors:    f.syncErrors.Load(),
	}
}

// Acquire implements Limiter.
func (f *Failover) Acquire(ctx context.Context, req *Request) (*Lease, error) {
	if !f.degraded.Load() {
		l, totals, err := f.redis.acquire(ctx, req)
		if err == nil {
			if len(totals) > 0 {
				f.local.mirror(req.Subject, req.Budgets, totals)
			}
			return l, nil
		}
		if !errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		alive := f.alive()
		if l != nil && alive {
			// One slow call on a healthy Redis (a busy proxy, a cold pool):
			// try again under the same lease id, which the script grants
			// at most once.
			var rl *Lease
			rl, totals, err = f.redis.acquireID(ctx, req, l.id)
			if err == nil {
				if len(totals) > 0 {
					f.local.mirror(req.Subject, req.Budgets, totals)
				}
				return rl, nil
			}
			if !errors.Is(err, ErrUnavailable) {
				return nil, err
			}
		}
		if l != nil {
			// The script may have run before the connection failed: release
			// its reservation once Redis is back (a no-op if it never ran).
			if l.state.CompareAndSwap(leaseOpen, leaseSettling) {
				f.enqueue(pendingOp{lease: l})
			}
		}
		if !alive {
			f.failed(err)
		}
	}
	if f.mode == FailClosed {
		f.unavailable.Add(1)
		var cause error = ErrUnavailable
		if c, ok := f.cause.Load().(outageCause); ok {
			cause = c.err
		}
		return nil, &LimitError{Kind: KindUnavailable, Rule: "redis", Err: cause}
	}
	f.localAcquires.Add(1)
	return f.local.Acquire(ctx, req)
}

// Settle implements Limiter. A Redis lease that cannot be settled now is
// queued and settled when Redis is back; the usage is not lost.
func (f *Failover) Settle(ctx context.Context, l *Lease, usedTokens int64) error {
	if l == nil {
		return nil
	}
	if _, local := l.owner.(*Memory); local {
		err := settleLease(ctx, l, usedTokens)
		f.poke()
		return err
	}
	if !f.degraded.Load() {
		err := settleLease(ctx, l, usedTokens)
		if err == nil || !errors.Is(err, ErrUnavailable) {
			return err
		}
		f.markDown(err)
	}
	if usedTokens < 0 {
		return fmt.Errorf("%w: negative usage %d", ErrInvalidRequest, usedTokens)
	}
	if l.state.CompareAndSwap(leaseOpen, leaseSettling) {
		f.enqueue(pendingOp{lease: l, used: usedTokens})
	}
	return nil
}

// Spent implements Limiter, from local counters while degraded.
func (f *Failover) Spent(ctx context.Context, subject, budgetKey string) (used, reserved int64, err error) {
	if !f.degraded.Load() {
		used, reserved, err = f.redis.Spent(ctx, subject, budgetKey)
		if err == nil || !errors.Is(err, ErrUnavailable) {
			return used, reserved, err
		}
	}
	return f.local.Spent(ctx, subject, budgetKey)
}

// Reset implements Limiter on both counters; it fails while Redis is
// unreachable, so the caller can retry.
func (f *Failover) Reset(ctx context.Context, subject string) error {
	if err := f.local.Reset(ctx, subject); err != nil {
		return err
	}
	return f.redis.Reset(ctx, subject)
}

// Close stops the probe loop, tries once to deliver queued work if Redis is
// up, and closes both limiters.
func (f *Failover) Close() error {
	f.closeOnce.Do(func() {
		close(f.stop)
		<-f.done
		if !f.degraded.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*f.redis.timeout)
			if err := f.reconcile(ctx); err != nil {
				f.log.Warn("usage owed to redis lost at close", "error", err, "pending", f.Stats().Pending)
			}
			cancel()
		}
	})
	return errors.Join(f.local.Close(), f.redis.Close())
}

// alive probes Redis with the probe timeout; a success clears the count
// of failed probes.
func (f *Failover) alive() bool {
	if f.redis.ping(context.Background(), f.probeTimeout) == nil {
		f.failedProbes.Store(0)
		return true
	}
	return false
}

// markDown probes Redis after a failed call and counts a failed probe.
func (f *Failover) markDown(err error) {
	if !f.degraded.Load() && f.alive() {
		return
	}
	f.failed(err)
}

// failed counts a failed probe. One slow call under load (a full
// connection pool, a GC pause, a saturated CPU) is not an outage: only
// probeFailures failed probes in a row, each with its own longer timeout,
// turn the whole proxy to fail_mode. Until then a failed call fails alone.
func (f *Failover) failed(err error) {
	if !f.degraded.Load() && f.failedProbes.Add(1) < f.probeFailures {
		return
	}
	var le *LimitError
	if errors.As(err, &le) && le.Err != nil {
		err = le.Err // the cause, not a refusal inside a refusal
	}
	if f.degraded.CompareAndSwap(false, true) {
		f.since.Store(time.Now().UnixNano())
		f.cause.Store(outageCause{err: err})
		f.outages.Add(1)
		f.log.Warn("redis unreachable, limits degraded", "fail_mode", f.mode.String(), "error", err)
	}
}

func (f *Failover) enqueue(op pendingOp) {
	f.mu.Lock()
	if len(f.pending) >= f.maxPending {
		f.pending[0] = pendingOp{}
		f.pending = f.pending[1:]
		f.dropped.Add(1)
	}
	f.pending = append(f.pending, op)
	f.mu.Unlock()
}

// poke asks the loop to push owed usage without waiting for the next tick.
func (f *Failover) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *Failover) loop() {
	defer close(f.done)
	t := time.NewTicker(f.probeEvery)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
		case <-f.wake:
		}
		f.tick()
	}
}

// checkEpoch notices a Redis that came back empty (restarted without
// persistence, flushed): the epoch this proxy saw is gone. It says so
// loudly and writes its local copy of every counter it knows back (the
// highest copy among the proxies wins), so budgets do not restart at zero.
func (f *Failover) checkEpoch(ctx context.Context) error {
	v, created, err := f.redis.epoch(ctx)
	if err != nil {
		return err
	}
	if f.epochSeen == "" || v == f.epochSeen {
		f.epochSeen = v
		return nil
	}
	_ = created
	f.Lost.Add(1)
	f.log.Error("REDIS LOST ITS DATA: the store came back empty (run it with appendonly yes); restoring budgets from this proxy's copy",
		"epoch_was", f.epochSeen, "epoch_now", v)
	restored := 0
	for subject, e := range f.local.seen() {
		if err := f.redis.restore(ctx, subject, e.keys, e.used); err != nil {
			return err
		}
		restored++
	}
	f.log.Warn("budgets restored from the local copy", "subjects", restored)
	f.epochSeen = v
	return nil
}

func (f *Failover) tick() {
	ctx := context.Background()
	if err := f.checkEpoch(ctx); err != nil && f.log.IsDebug() {
		f.log.Debug("epoch check failed", "error", err)
	}
	degraded := f.degraded.Load()
	if degraded {
		if err := f.redis.ping(ctx, f.probeTimeout); err != nil {
			return
		}
		f.failedProbes.Store(0)
	} else if f.failedProbes.Load() > 0 {
		// A call failed recently: keep probing, so an outage is declared
		// even when no request comes to notice it.
		if !f.alive() {
			f.failed(errors.New("redis probe failed"))
			return
		}
	}
	if err := f.reconcile(ctx); err != nil {
		if !degraded {
			f.markDown(err)
		}
		return
	}
	if degraded && f.degraded.CompareAndSwap(true, false) {
		f.log.Info("redis reachable again, limits restored",
			"outage", time.Since(time.Unix(0, f.since.Load())).Round(time.Millisecond).String())
	}
}

// reconcile delivers the queued work and the usage owed by local leases, in
// order. It stops at the first unreachability and keeps the rest queued.
func (f *Failover) reconcile(ctx context.Context) error {
	for _, b := range f.local.takeUnsynced() {
		b.id = f.redis.idPrefix + "s" + strconv.FormatUint(f.batchSeq.Add(1), 36)
		f.enqueue(pendingOp{batch: &b})
	}
	f.mu.Lock()
	ops := f.pending
	f.pending = nil
	f.mu.Unlock()
	for i, op := range ops {
		var err error
		if op.batch != nil {
			err = f.redis.sync(ctx, op.batch.subject, op.batch.id, op.batch.keys, op.batch.deltas)
		} else {
			err = f.redis.runSettle(ctx, op.lease, op.used)
			if err == nil {
				op.lease.state.Store(leaseSettled)
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, ErrUnavailable) {
			f.mu.Lock()
			f.pending = append(ops[i:len(ops):len(ops)], f.pending...)
			f.mu.Unlock()
			return err
		}
		// Redis refused the work itself; retrying cannot help.
		f.syncErrors.Add(1)
		f.log.Warn("dropping limit work redis rejected", "error", err)
	}
	return nil
}

var _ Limiter = (*Failover)(nil)
