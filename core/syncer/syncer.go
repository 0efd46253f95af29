package syncer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// TokenFeed is the central server's token change feed (*tokenapi.Client).
type TokenFeed interface {
	Changes(ctx context.Context, since uint64) (tokenapi.ChangesResponse, error)
}

// PluginFeed is the central plugin registry (*manifest.Client).
type PluginFeed interface {
	Changes(ctx context.Context, since uint64) (manifest.Listing, error)
	Fetch(ctx context.Context, sha string) ([]byte, error)
}

// Defaults.
const (
	DefaultInterval       = 300 * time.Second
	DefaultMinBackoff     = time.Second
	DefaultMaxBackoff     = time.Minute
	DefaultRequestTimeout = 60 * time.Second
)

// Options configure a Syncer.
type Options struct {
	// Store is the proxy's own token database (never the central's file).
	Store *store.DB
	// Tokens is the central token feed.
	Tokens TokenFeed
	// Plugins is the central plugin registry; nil turns plugin sync off.
	Plugins PluginFeed
	// TrustedKeys verify plugin manifests; empty means no plugin is loaded.
	TrustedKeys []ed25519.PublicKey
	// PluginDir receives verified binaries as <sha256>.wasm.
	PluginDir string
	// MaxMemoryPages and MaxCallMS are what the rule host grants a plugin;
	// a manifest declaring more is refused. Zero: no check.
	MaxMemoryPages, MaxCallMS uint32
	// Interval is the poll period. Default DefaultInterval.
	Interval time.Duration
	// MinBackoff and MaxBackoff bound the retry delay after a failed pull;
	// MaxBackoff is also capped by Interval. Defaults DefaultMinBackoff and
	// DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds one pull. Default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Webhook verifies pushes; nil means WebhookHandler refuses everything.
	Webhook *events.Verifier
	// Fleet turns on reports to the central server's /api/v1/fleet; nil
	// sends none.
	Fleet *FleetOptions
	// Metrics receives the sync gauges; nil keeps them unexported.
	Metrics *metrics.Registry
	Logger  hclog.Logger
	// Now replaces time.Now in tests.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	o.MaxBackoff = max(min(o.MaxBackoff, o.Interval), o.MinBackoff)
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Syncer keeps a proxy's store and plugins in step with the central server.
type Syncer struct {
	o   Options
	log hclog.Logger

	syncMu sync.Mutex // one pull at a time
	ready  atomic.Bool
	synced atomic.Int64 // unix nanos of the last successful pull
	fails  atomic.Int64 // consecutive failed pulls

	central    atomic.Uint64                // newest central revision heard of
	persistErr atomic.Pointer[PersistError] // the last write of synced tokens failed
	lastErr    atomic.Pointer[string]       // the last pull's error; nil after a success
	met        *syncMetrics

	plugins *pluginSet
	fleet   *reporter // nil without Options.Fleet

	trigger chan struct{} // one slot: coalesces pushes
	cancel  context.CancelFunc
	done    chan struct{}
	started atomic.Bool
}

// New loads the persisted plugin state and returns an unstarted Syncer. A
// store that already holds a synced revision makes the Syncer ready at
// once: the proxy serves its local copy until the central server answers.
func New(o Options) (*Syncer, error) {
	if o.Store == nil || o.Tokens == nil {
		return nil, ErrNoStore
	}
	o.setDefaults()
	s := &Syncer{o: o, log: o.Logger.Named("syncer"), trigger: make(chan struct{}, 1), done: make(chan struct{})}
	if o.Metrics != nil {
		s.met = newSyncMetrics(o.Metrics)
	}
	ps, err := loadPluginSet(o.Store.Bolt(), o.PluginDir, o.TrustedKeys, s.log)
	if err != nil {
		return nil, err
	}
	s.plugins = ps
	if o.Fleet != nil && o.Fleet.Poster != nil {
		s.fleet = newReporter(*o.Fleet)
	}
	if o.Store.Revision() > 0 {
		s.ready.Store(true)
	}
	return s, nil
}

// Start tries one pull, waiting at most firstWait, then keeps pulling in
// the background until Close. A failed first pull is logged, not returned:
// the proxy starts with what it has.
func (s *Syncer) Start(firstWait time.Duration) {
	if s.started.Swap(true) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.fleet != nil {
		go s.runFleet(ctx)
	}
	fctx, fcancel := context.WithTimeout(ctx, firstWait)
	err := s.Sync(fctx)
	fcancel()
	delay := s.o.Interval
	if err != nil {
		delay = s.backoff()
		s.log.Warn("central server not synced at start; serving the local copy and retrying",
			"error", err, "local_revision", s.o.Store.Revision(), "retry_in", delay.String())
	}
	go s.run(ctx, delay)
}

// Close stops the background pulls and waits for a running one to end.
func (s *Syncer) Close(context.Context) error {
	if !s.started.Load() {
		return nil
	}
	s.cancel()
	<-s.done
	if s.fleet != nil {
		<-s.fleet.done
	}
	return nil
}

// Trigger asks for a pull soon. It never blocks; triggers that arrive
// while one is pending merge into it.
func (s *Syncer) Trigger() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// Ready reports whether the proxy has tokens to serve: a pull succeeded,
// or a synced copy was on disk at start.
func (s *Syncer) Ready() bool { return s.ready.Load() }

// LastSync returns the time of the last successful pull (zero if none).
func (s *Syncer) LastSync() time.Time {
	n := s.synced.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func (s *Syncer) run(ctx context.Context, first time.Duration) {
	defer close(s.done)
	due := time.Now().Add(first)
	var last time.Time
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.trigger:
			// A push means "pull now": it also proves the central server is
			// back if the last pull could not reach it. But while the local
			// disk refuses writes, pushes are paced to one pull per
			// MinBackoff/5: a proxy with a full disk is told of every change
			// and would otherwise retry hundreds of times a second, yet a
			// revocation must still reach its memory within a second.
			soon := time.Now()
			if s.fails.Load() > 0 && s.persistErr.Load() != nil {
				soon = later(soon, last.Add(s.o.MinBackoff/5))
			}
			if soon.Before(due) {
				due = soon
				timer.Reset(time.Until(due))
			}
			continue
		case <-timer.C:
		}
		last = time.Now()
		pctx, cancel := context.WithTimeout(ctx, s.o.RequestTimeout)
		err := s.Sync(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		next := s.o.Interval
		if err != nil {
			next = s.backoff()
			s.log.Warn("sync with the central server failed", "error", err, "failures", s.fails.Load(), "retry_in", next.String())
		}
		due = time.Now().Add(next)
		timer.Reset(next)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// backoff is the delay after the current run of failures, with jitter.
func (s *Syncer) backoff() time.Duration {
	n := min(s.fails.Load(), 30)
	d := s.o.MinBackoff << max(n-1, 0)
	if d <= 0 || d > s.o.MaxBackoff {
		d = s.o.MaxBackoff
	}
	// Up to 20% less, so proxies restarted together do not pull together.
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// Sync pulls once: plugins first, so tokens that name a new plugin compile
// against it, then tokens. Errors of both are joined.
func (s *Syncer) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	var errs []error
	if s.o.Plugins != nil {
		if err := s.syncPlugins(ctx); err != nil {
			errs = append(errs, fmt.Errorf("syncing plugins: %w", err))
		}
	}
	tokErr := s.syncTokens(ctx)
	if tokErr != nil {
		errs = append(errs, fmt.Errorf("syncing tokens: %w", tokErr))
	} else {
		s.ready.Store(true)
	}
	defer s.observe()
	if err := errors.Join(errs...); err != nil {
		s.fails.Add(1)
		msg := err.Error()
		s.lastErr.Store(&msg)
		return err
	}
	s.lastErr.Store(nil)
	if s.fails.Swap(0) > 0 {
		s.log.Info("in sync with the central server again", "revision", s.o.Store.Revision())
	}
	s.synced.Store(s.o.Now().UnixNano())
	// Only after the store (and so the proxy's token cache) applied the
	// pull, so the report shows what requests now meet.
	s.reportFleet()
	return nil
}
