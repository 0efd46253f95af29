package events

// Notifier: coalesced, durable "feed F is at revision R" pushes.
//
// Bucket schema, in the caller's bbolt file:
//
//	<Bucket>                       default DefaultNoticeBucket
//	└── <target key>               hex(sha256(URL))[:32], as in the outbox
//	    └── <feed>  →  notice      feed = the event type's prefix ("token")
//
//	notice = 0x01 (format version)
//	         uvarint revision
//	         uvarint len(event id)   event id
//	         uvarint len(event type) event type
//	         body (the event JSON, exactly the bytes that are signed and sent)
//
// One record per target and feed: a newer notice overwrites an older one in
// the same transaction as the change it announces, so what is pending for
// a target is at most one delivery per feed, and it is always the newest.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
)

// DefaultNoticeBucket holds the Notifier's pending notices.
const DefaultNoticeBucket = "events_notices"

// TokenSync is the type of the notice central sends at start: "the token
// feed is at revision R", with no particular change behind it.
const TokenSync = "token.sync"

// NotifierConfig configures a Notifier.
type NotifierConfig struct {
	Targets []Target
	// DB holds the pending notices; required, and never closed by the
	// Notifier. It is the database whose changes the notices announce, so
	// NoteTx can write them in the change's own transaction.
	DB *bolt.DB
	// Bucket is the top-level bucket. Default DefaultNoticeBucket.
	Bucket string
	// BaseDelay and MaxDelay shape the backoff after a failed delivery.
	// Defaults DefaultBaseDelay and DefaultMaxDelay. A new notice cuts a
	// longer pause short, but never to less than BaseDelay after the last
	// attempt, so a dead target is not hit once per change.
	BaseDelay, MaxDelay time.Duration

	clock  clock
	jitter func(n int64) int64
}

func (c *NotifierConfig) setDefaults() {
	if c.Bucket == "" {
		c.Bucket = DefaultNoticeBucket
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = DefaultBaseDelay
	}
	if c.MaxDelay < c.BaseDelay {
		c.MaxDelay = max(DefaultMaxDelay, c.BaseDelay)
	}
	for i := range c.Targets {
		if c.Targets[i].Timeout <= 0 {
			c.Targets[i].Timeout = DefaultTimeout
		}
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	if c.jitter == nil {
		c.jitter = rand.Int64N
	}
}

// Notifier delivers notices that a feed (tokens, plugins) reached a
// revision. Per target and feed only the newest undelivered notice is
// kept, durably, so a revocation is never queued behind older pushes and a
// crash between a change and its push loses nothing: Start sends what the
// previous run left. A receiver treats a notice as "pull now".
type Notifier struct {
	cfg     NotifierConfig
	log     hclog.Logger
	db      *bolt.DB
	bucket  []byte
	targets []*noticeTarget

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started atomic.Bool
	closed  atomic.Bool
}

// notice is one pending "feed at revision" delivery.
type notice struct {
	feed      string
	rev       uint64
	eventID   string
	eventType string
	body      []byte // never modified
}

// noticeTarget is one target's pending notices and delivery state.
type noticeTarget struct {
	n      *Notifier
	target Target
	key    []byte
	name   string // for logs: index and scheme://host
	client *http.Client
	wake   chan struct{}

	mu          sync.Mutex
	pending     map[string]*notice // feed → newest undelivered
	sent        map[string]uint64  // feed → newest delivered revision
	pausedUntil time.Time
	lastAttempt time.Time
	failures    int
	lastErr     string
	certWarned  bool
	delivered   uint64
}

// NewNotifier validates cfg. Call Start to begin delivering.
func NewNotifier(logger hclog.Logger, cfg NotifierConfig) (*Notifier, error) {
	if cfg.DB == nil {
		return nil, fmt.Errorf("%w: the notifier needs a database", ErrBadConfig)
	}
	if cfg.DB.IsReadOnly() {
		return nil, fmt.Errorf("%w: notice database is read-only", ErrBadConfig)
	}
	cfg.Targets = append([]Target(nil), cfg.Targets...)
	cfg.setDefaults()
	dc := DispatcherConfig{Targets: cfg.Targets}
	dc.SetDefaults()
	if err := dc.Validate(); err != nil {
		return nil, fmt.Errorf("validating webhook notifier config: %w", err)
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Notifier{cfg: cfg, log: logger.Named("push"), db: cfg.DB, bucket: []byte(cfg.Bucket), ctx: ctx, cancel: cancel}
	for i, t := range cfg.Targets {
		client, err := newHTTPClient(t.tlsOptions(false), 1)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("%w: webhook %d: %w", ErrBadConfig, i, err)
		}
		n.targets = append(n.targets, &noticeTarget{
			n: n, target: t, key: targetKey(t.URL), name: fmt.Sprintf("#%d %s", i, redactURL(t.URL)),
			client: client, wake: make(chan struct{}, 1),
			pending: map[string]*notice{}, sent: map[string]uint64{},
		})
	}
	return n, nil
}

// Wants reports whether any target's filter matches eventType.
func (n *Notifier) Wants(eventType string) bool {
	for _, t := range n.targets {
		if Match(t.target.Events, eventType) {
			return true
		}
	}
	return false
}

// feedOf is the part of an event type before its first dot.
func feedOf(typ string) string {
	if i := strings.IndexByte(typ, '.'); i > 0 {
		return typ[:i]
	}
	return typ
}

// NoteTx records ev as the newest notice of its feed for every target that
// wants it, inside tx, the caller's write transaction on the Notifier's
// database: the notice commits or rolls back with the change. A notice
// older than the one already pending is ignored. Workers see it once tx
// commits.
func (n *Notifier) NoteTx(tx *bolt.Tx, ev Event) error {
	if !tx.Writable() || tx.DB() != n.db {
		return ErrForeignTx
	}
	fill(&ev, n.cfg.clock.Now())
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("marshalling %s event: %w", ev.Type, err)
	}
	nt := &notice{feed: feedOf(ev.Type), rev: ev.Revision, eventID: ev.ID, eventType: ev.Type, body: body}
	var wants []*noticeTarget
	for _, t := range n.targets {
		if Match(t.target.Events, ev.Type) {
			wants = append(wants, t)
		}
	}
	if len(wants) == 0 {
		return nil
	}
	top, err := tx.CreateBucketIfNotExists(n.bucket)
	if err != nil {
		return fmt.Errorf("creating notice bucket: %w", err)
	}
	rec := encodeNotice(nt)
	for _, t := range wants {
		b, err := top.CreateBucketIfNotExists(t.key)
		if err != nil {
			return fmt.Errorf("creating notice target bucket: %w", err)
		}
		if old, err := decodeNotice(nt.feed, b.Get([]byte(nt.feed))); err == nil && old.rev > nt.rev {
			continue
		}
		if err := b.Put([]byte(nt.feed), rec); err != nil {
			return fmt.Errorf("writing notice: %w", err)
		}
	}
	tx.OnCommit(func() {
		for _, t := range wants {
			t.offer(nt)
		}
	})
	return nil
}

// Note is NoteTx in a transaction of its own.
func (n *Notifier) Note(ev Event) error {
	return n.db.Update(func(tx *bolt.Tx) error { return n.NoteTx(tx, ev) })
}

// Start loads the notices a previous run left, drops those of targets no
// longer configured and starts one worker per target.
func (n *Notifier) Start() error {
	if n.closed.Load() {
		return ErrClosed
	}
	if n.started.Swap(true) {
		return nil
	}
	keep := make(map[string]*noticeTarget, len(n.targets))
	for _, t := range n.targets {
		keep[string(t.key)] = t
	}
	var loaded []func()
	err := n.db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists(n.bucket)
		if err != nil {
			return fmt.Errorf("creating notice bucket: %w", err)
		}
		var gone [][]byte
		err = top.ForEachBucket(func(k []byte) error {
			t := keep[string(k)]
			if t == nil {
				gone = append(gone, append([]byte(nil), k...))
				return nil
			}
			return top.Bucket(k).ForEach(func(feed, v []byte) error {
				nt, err := decodeNotice(string(feed), v)
				if err != nil {
					n.log.Warn("dropping a corrupt pending notice", "target", t.name, "feed", string(feed))
					return nil
				}
				loaded = append(loaded, func() { t.offer(nt) })
				return nil
			})
		})
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := top.DeleteBucket(k); err != nil {
				return fmt.Errorf("deleting notices of a removed target: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading pending notices: %w", err)
	}
	for _, f := range loaded {
		f()
	}
	if len(loaded) > 0 {
		n.log.Info("resuming pending pushes", "count", len(loaded))
	}
	for _, t := range n.targets {
		n.wg.Add(1)
		go t.work()
	}
	return nil
}

// Close stops the workers, cutting an attempt in flight short. Pending
// notices stay in the database for the next Start.
func (n *Notifier) Close(ctx context.Context) error {
	if n.closed.Swap(true) {
		return nil
	}
	n.cancel()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stopping push workers: %w", ctx.Err())
	}
}

// TargetStats describe one target, shaped for metrics.
type TargetStats struct {
	Name      string            // "#0 https://host:port"
	Pending   int               // feeds with an undelivered notice
	Wanted    map[string]uint64 // feed → newest noted revision
	Sent      map[string]uint64 // feed → newest delivered revision
	Failures  int               // consecutive failed attempts
	LastError string            // "" after a success
	Delivered uint64            // notices delivered since start
}

// Stats returns each target's state.
func (n *Notifier) Stats() []TargetStats {
	out := make([]TargetStats, 0, len(n.targets))
	for _, t := range n.targets {
		t.mu.Lock()
		s := TargetStats{Name: t.name, Pending: len(t.pending), Wanted: map[string]uint64{}, Sent: map[string]uint64{},
			Failures: t.failures, LastError: t.lastErr, Delivered: t.delivered}
		for f, v := range t.sent {
			s.Sent[f], s.Wanted[f] = v, v
		}
		for f, p := range t.pending {
			s.Wanted[f] = max(s.Wanted[f], p.rev)
		}
		t.mu.Unlock()
		out = append(out, s)
	}
	return out
}

// offer makes nt the pending notice of its feed unless a newer one is
// pending, and wakes the worker. A target in backoff is retried soon, but
// not sooner than BaseDelay after its last attempt.
func (t *noticeTarget) offer(nt *notice) {
	t.mu.Lock()
	if cur := t.pending[nt.feed]; cur != nil && cur.rev > nt.rev {
		t.mu.Unlock()
		return
	}
	t.pending[nt.feed] = nt
	if soon := t.lastAttempt.Add(t.n.cfg.BaseDelay); t.pausedUntil.After(soon) {
		t.pausedUntil = soon
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// next returns the notice to send now, the token feed first (revocations),
// or how long to wait.
func (t *noticeTarget) next(now time.Time) (*notice, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pending) == 0 {
		return nil, 0
	}
	if wait := t.pausedUntil.Sub(now); wait > 0 {
		return nil, wait
	}
	if nt := t.pending["token"]; nt != nil {
		return nt, 0
	}
	for _, nt := range t.pending {
		return nt, 0
	}
	return nil, 0
}

func (t *noticeTarget) work() {
	defer t.n.wg.Done()
	n := t.n
	for {
		nt, wait := t.next(n.cfg.clock.Now())
		if nt == nil {
			var timer <-chan time.Time
			stop := func() {}
			if wait > 0 {
				timer, stop = n.cfg.clock.After(wait)
			}
			select {
			case <-t.wake:
			case <-timer:
			case <-n.ctx.Done():
				stop()
				return
			}
			stop()
			continue
		}
		now := n.cfg.clock.Now()
		t.mu.Lock()
		t.lastAttempt = now
		t.mu.Unlock()
		r := send(n.ctx, t.client, t.target, nt.eventID, nt.body, n.cfg.clock.Now)
		if r.outcome == outcomeCanceled {
			return
		}
		t.settle(nt, r)
	}
}

// settle records an attempt's outcome.
func (t *noticeTarget) settle(nt *notice, r result) {
	n := t.n
	switch r.outcome {
	case outcomeDelivered, outcomeRejected:
		t.mu.Lock()
		recovered := t.failures > 0
		t.failures, t.lastErr, t.pausedUntil, t.certWarned = 0, "", time.Time{}, false
		if r.outcome == outcomeDelivered {
			t.delivered++
			t.sent[nt.feed] = max(t.sent[nt.feed], nt.rev)
		} else {
			t.lastErr = fmt.Sprintf("rejected with status %d", r.status)
		}
		newer := t.pending[nt.feed] != nt
		if !newer {
			delete(t.pending, nt.feed)
		}
		t.mu.Unlock()
		if r.outcome == outcomeRejected {
			n.log.Warn("webhook refused a push; it is not retried until the next change",
				"target", t.name, "event_type", nt.eventType, "revision", nt.rev, "status", r.status)
		} else if recovered {
			n.log.Info("webhook reachable again", "target", t.name, "revision", nt.rev)
		}
		if !newer {
			t.forget(nt)
		}
		return
	}
	t.mu.Lock()
	t.failures++
	wait := r.wait
	if !r.hasWait {
		wait = backoff(t.failures, n.cfg.BaseDelay, n.cfg.MaxDelay, n.cfg.jitter)
	}
	t.pausedUntil = n.cfg.clock.Now().Add(wait)
	failures := t.failures
	cert := r.err != nil && IsCertError(r.err)
	warnCert := cert && !t.certWarned
	if cert {
		t.certWarned = true
	}
	t.lastErr = errText(r)
	t.mu.Unlock()
	args := append([]any{"target", t.name, "revision", nt.rev, "failures", failures, "retry_in", wait.String()}, r.logArgs()...)
	switch {
	case warnCert:
		n.log.Warn(certAdvice, args...)
	case failures == 1:
		n.log.Warn("push to webhook failed, retrying with backoff", args...)
	case n.log.IsDebug():
		n.log.Debug("push to webhook failed again", args...)
	}
}

func errText(r result) string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("status %d", r.status)
}

// forget removes a finished notice from the database unless a newer one
// replaced it meanwhile.
func (t *noticeTarget) forget(nt *notice) {
	err := t.n.db.Update(func(tx *bolt.Tx) error {
		top := tx.Bucket(t.n.bucket)
		if top == nil {
			return nil
		}
		b := top.Bucket(t.key)
		if b == nil {
			return nil
		}
		cur, err := decodeNotice(nt.feed, b.Get([]byte(nt.feed)))
		if err == nil && cur.rev > nt.rev {
			return nil
		}
		return b.Delete([]byte(nt.feed))
	})
	if err != nil && !errors.Is(err, bolt.ErrDatabaseNotOpen) {
		// It is sent once more after a restart; receivers take duplicates.
		t.n.log.Error("clearing a delivered push", "target", t.name, "error", err)
	}
}

const noticeVersion = 1

func encodeNotice(nt *notice) []byte {
	b := make([]byte, 0, 24+len(nt.eventID)+len(nt.eventType)+len(nt.body))
	b = append(b, noticeVersion)
	b = binary.AppendUvarint(b, nt.rev)
	b = binary.AppendUvarint(b, uint64(len(nt.eventID)))
	b = append(b, nt.eventID...)
	b = binary.AppendUvarint(b, uint64(len(nt.eventType)))
	b = append(b, nt.eventType...)
	return append(b, nt.body...)
}

// decodeNotice copies everything out of v, which bbolt owns.
func decodeNotice(feed string, v []byte) (*notice, error) {
	if len(v) == 0 || v[0] != noticeVersion {
		return nil, errBadRecord
	}
	v = v[1:]
	rev, k := binary.Uvarint(v)
	if k <= 0 {
		return nil, errBadRecord
	}
	v = v[k:]
	str := func() (string, bool) {
		l, k := binary.Uvarint(v)
		if k <= 0 || l > uint64(len(v)-k) {
			return "", false
		}
		s := string(v[k : k+int(l)])
		v = v[k+int(l):]
		return s, true
	}
	id, ok1 := str()
	typ, ok2 := str()
	if !ok1 || !ok2 || len(v) == 0 {
		return nil, errBadRecord
	}
	return &notice{feed: feed, rev: rev, eventID: id, eventType: typ, body: append([]byte(nil), v...)}, nil
}
