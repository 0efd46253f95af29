package rollup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/metrics"
)

// Shipper defaults.
const (
	DefaultInterval  = 30 * time.Second
	DefaultRetention = 90 * 24 * time.Hour
	// LocalBucket is the top-level bucket of a proxy's own rows.
	LocalBucket = "usage.v1"
	// Path is central's usage endpoint.
	Path = "/api/v1/usage"
)

// ShipperOptions configure a Shipper.
type ShipperOptions struct {
	// DB is the proxy's bbolt file: the outbox, the batch sequence and the
	// local rows live in it.
	DB *bolt.DB
	// Instance is the proxy's stable instance id; batch ids start with it.
	Instance string
	// URLs are central's base URLs: one server, or the replicas of one
	// central (remote.url, comma-separated), tried in turn from the last
	// one that took a batch. Batch ids make a retry through another
	// replica safe. None keeps usage local.
	URLs []string
	// APIKey is central's bearer key.
	APIKey string
	// Client sends batches; nil uses a client with a 30 s timeout.
	Client *http.Client
	// Interval between drains and sends. Default DefaultInterval.
	Interval time.Duration
	// Retention of the local rows. Default DefaultRetention.
	Retention time.Duration
	Logger    hclog.Logger
	Metrics   *metrics.Registry // nil: no metrics
}

// Shipper drains an Aggregator into durable batches and sends them to
// central.
//
// Schema, beside the BoltStore's LocalBucket:
//
//	usage.outbox.v1
//	├── key "seq":   last batch sequence, uint64 BE
//	├── key "epoch": random hex made with the bucket: batch ids carry it, so
//	│                a proxy whose file was replaced under the same instance
//	│                id never reuses an id central has seen
//	└── key 0x00 | seq uint64 BE: JSON Batch not yet acknowledged
type Shipper struct {
	o      ShipperOptions
	prefix string // of batch ids: instance-epoch-
	log    hclog.Logger
	agg    *Aggregator
	local  *BoltStore
	met    *shipperMetrics

	sendMu sync.Mutex   // one send pass at a time
	cur    atomic.Int32 // index into o.URLs of the replica that took the last batch
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

var (
	outboxBucket = []byte("usage.outbox.v1")
	seqKey       = []byte("seq")
	epochKey     = []byte("epoch")
)

// NewShipper prepares the buckets; Start runs it.
func NewShipper(o ShipperOptions) (*Shipper, error) {
	if o.DB == nil || o.Instance == "" {
		return nil, errors.New("rollup: shipper needs a database and an instance id")
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	local, err := NewBoltStore(o.DB, LocalBucket)
	if err != nil {
		return nil, err
	}
	var epoch string
	if err := o.DB.Update(func(tx *bolt.Tx) error {
		ob, err := tx.CreateBucketIfNotExists(outboxBucket)
		if err != nil {
			return err
		}
		if v := ob.Get(epochKey); v != nil {
			epoch = string(v)
			return nil
		}
		var rnd [4]byte
		_, _ = rand.Read(rnd[:])
		epoch = hex.EncodeToString(rnd[:])
		return ob.Put(epochKey, []byte(epoch))
	}); err != nil {
		return nil, fmt.Errorf("creating the usage outbox: %w", err)
	}
	s := &Shipper{o: o, prefix: o.Instance + "-" + epoch + "-", log: o.Logger.Named("usage"), agg: NewAggregator(), local: local,
		stop: make(chan struct{}), done: make(chan struct{})}
	if o.Metrics != nil {
		s.met = newShipperMetrics(o.Metrics)
	}
	return s, nil
}

// Aggregator is where the proxy records requests.
func (s *Shipper) Aggregator() *Aggregator { return s.agg }

// Local is the proxy's own store, for offline reports.
func (s *Shipper) Local() Store { return s.local }

// Start runs the drain-and-send loop until Close.
func (s *Shipper) Start() {
	go s.loop()
}

func (s *Shipper) loop() {
	defer close(s.done)
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	prune := time.Now()
	s.send(context.Background()) // what a previous run left
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if err := s.Flush(); err != nil {
			s.log.Error("writing usage batch", "error", err)
		}
		s.send(context.Background())
		if time.Since(prune) > time.Hour {
			prune = time.Now()
			if _, err := s.local.Prune(context.Background(), time.Now().Add(-s.o.Retention)); err != nil {
				s.log.Warn("pruning local usage", "error", err)
			}
		}
	}
}

// Close stops the loop, writes what the aggregator holds to the outbox and
// tries one last send within ctx. What is not acknowledged stays in the
// outbox for the next start.
func (s *Shipper) Close(ctx context.Context) error {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	err := s.Flush()
	s.send(ctx)
	return err
}

// Flush drains the aggregator into a new batch, stored locally and queued
// for central in one transaction.
func (s *Shipper) Flush() error {
	rows := s.agg.Drain()
	if len(rows) == 0 {
		return nil
	}
	return s.o.DB.Update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(outboxBucket)
		var seq uint64
		if v := ob.Get(seqKey); len(v) == 8 {
			seq = binary.BigEndian.Uint64(v)
		}
		seq++
		b := &Batch{ID: s.prefix + strconv.FormatUint(seq, 10), Instance: s.o.Instance, Seq: seq,
			Created: time.Now().UTC(), Rows: rows}
		if _, err := s.local.addTx(tx, b); err != nil {
			return err
		}
		var sv [8]byte
		binary.BigEndian.PutUint64(sv[:], seq)
		if err := ob.Put(seqKey, sv[:]); err != nil {
			return err
		}
		if len(s.o.URLs) == 0 {
			return nil
		}
		val, err := json.Marshal(b)
		if err != nil {
			return err
		}
		return ob.Put(outboxKey(seq), val)
	})
}

func outboxKey(seq uint64) []byte {
	k := make([]byte, 9)
	binary.BigEndian.PutUint64(k[1:], seq)
	return k
}

// pending returns the queued batches in sequence order.
func (s *Shipper) pending() ([][]byte, []uint64, error) {
	var bodies [][]byte
	var seqs []uint64
	err := s.o.DB.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(outboxBucket).Cursor()
		for k, v := c.Seek([]byte{0}); k != nil && len(k) == 9 && k[0] == 0; k, v = c.Next() {
			bodies = append(bodies, bytes.Clone(v))
			seqs = append(seqs, binary.BigEndian.Uint64(k[1:]))
		}
		return nil
	})
	return bodies, seqs, err
}

// Pending is the number of batches central has not acknowledged.
func (s *Shipper) Pending() int {
	b, _, _ := s.pending()
	return len(b)
}

func (s *Shipper) remove(seq uint64) error {
	return s.o.DB.Update(func(tx *bolt.Tx) error { return tx.Bucket(outboxBucket).Delete(outboxKey(seq)) })
}

// send posts the queued batches in order and stops at the first failure:
// the rest wait for the next pass, so batches arrive in order.
func (s *Shipper) send(ctx context.Context) {
	if len(s.o.URLs) == 0 {
		return
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	bodies, seqs, err := s.pending()
	if err != nil {
		s.log.Error("reading the usage outbox", "error", err)
		return
	}
	defer func() { s.observe() }()
	for i, body := range bodies {
		err := s.post(ctx, body)
		var perm *permanentError
		switch {
		case errors.As(err, &perm):
			// Central will never take it: keep the outbox moving; the
			// rows stay in the local store.
			s.log.Error("central refused a usage batch; dropping it", "seq", seqs[i], "status", perm.status, "error", perm.msg)
		case err != nil:
			if s.met != nil {
				s.met.errors.Inc()
			}
			s.log.Warn("sending usage to central failed; will retry", "seq", seqs[i], "pending", len(bodies)-i, "error", err)
			return
		default:
			if s.met != nil {
				s.met.sent.Inc()
			}
		}
		if err := s.remove(seqs[i]); err != nil {
			s.log.Error("removing an acknowledged usage batch", "seq", seqs[i], "error", err)
			return
		}
	}
}

type permanentError struct {
	status int
	msg    string
}

func (e *permanentError) Error() string {
	return "central answered " + strconv.Itoa(e.status) + ": " + e.msg
}

// post sends body to the replica that took the last batch, then to each
// other one; a refusal (permanentError) is an answer, not a reason to ask
// another replica, which would refuse it too.
func (s *Shipper) post(ctx context.Context, body []byte) error {
	n := len(s.o.URLs)
	start := int(s.cur.Load())
	var err error
	for k := range n {
		i := (start + k) % n
		err = s.postTo(ctx, s.o.URLs[i], body)
		var perm *permanentError
		if err == nil || errors.As(err, &perm) {
			s.cur.Store(int32(i))
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return err
}

func (s *Shipper) postTo(ctx context.Context, base string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+Path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.o.APIKey)
	}
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusBadRequest, resp.StatusCode == http.StatusRequestEntityTooLarge,
		resp.StatusCode == http.StatusUnprocessableEntity:
		return &permanentError{status: resp.StatusCode, msg: string(msg)}
	}
	return fmt.Errorf("central answered %d", resp.StatusCode)
}

func (s *Shipper) observe() {
	if s.met == nil {
		return
	}
	bodies, _, err := s.pending()
	if err != nil {
		return
	}
	s.met.pending.Set(float64(len(bodies)))
	oldest := 0.0
	if len(bodies) > 0 {
		var b struct {
			Created time.Time `json:"created"`
		}
		if json.Unmarshal(bodies[0], &b) == nil {
			oldest = time.Since(b.Created).Seconds()
		}
	}
	s.met.oldest.Set(oldest)
}

type shipperMetrics struct {
	pending, oldest *metrics.Gauge
	sent, errors    *metrics.Counter
}

func newShipperMetrics(r *metrics.Registry) *shipperMetrics {
	return &shipperMetrics{
		pending: r.NewGauge("tokenomics_usage_batches_pending", "Usage batches central has not acknowledged yet.").With(),
		oldest:  r.NewGauge("tokenomics_usage_oldest_pending_seconds", "Age of the oldest usage batch central has not acknowledged (0 when none).").With(),
		sent:    r.NewCounter("tokenomics_usage_batches_sent_total", "Usage batches central acknowledged.").With(),
		errors:  r.NewCounter("tokenomics_usage_send_errors_total", "Failed attempts to send a usage batch to central.").With(),
	}
}
