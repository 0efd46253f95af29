package central

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

// StoredEvent is an event central received, with its place in the inbox.
type StoredEvent struct {
	Seq      uint64       `json:"seq"`
	Received time.Time    `json:"received"`
	Event    events.Event `json:"event"`
}

// EventQuery selects stored events.
type EventQuery struct {
	After uint64    // only events with a greater Seq
	Since time.Time // only events received at or after; zero for all
	Types []string  // filters as in events.webhooks ("rule.*"); empty for all
	Limit int       // at most this many, oldest first
}

// EventStore keeps the events proxies send to central. It is narrow so a
// PostgreSQL store can implement it later. Safe for concurrent use.
type EventStore interface {
	// Append stores e and returns its sequence number, which grows with
	// every append.
	Append(ctx context.Context, e events.Event, received time.Time) (uint64, error)
	// List returns the events q selects, in sequence order.
	List(ctx context.Context, q EventQuery) ([]StoredEvent, error)
	// Prune drops events received before before; it returns how many.
	Prune(ctx context.Context, before time.Time) (int, error)
}

// BoltEventStore is an EventStore in central's bbolt file.
//
// Schema:
//
//	events.inbox.v1
//	key:   seq uint64 BE (bucket NextSequence)
//	value: JSON StoredEvent
type BoltEventStore struct{ db *bolt.DB }

// InboxBucket is the bbolt bucket of the event inbox (`tokenomics migrate` reads it).
const InboxBucket = "events.inbox.v1"

var inboxBucket = []byte(InboxBucket)

// NewBoltEventStore creates the inbox bucket in db; the caller owns db.
func NewBoltEventStore(db *bolt.DB) (*BoltEventStore, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(inboxBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating the event inbox: %w", err)
	}
	return &BoltEventStore{db: db}, nil
}

// Append implements EventStore.
func (s *BoltEventStore) Append(_ context.Context, e events.Event, received time.Time) (uint64, error) {
	var seq uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(inboxBucket)
		var err error
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		val, err := json.Marshal(StoredEvent{Seq: seq, Received: received.UTC(), Event: e})
		if err != nil {
			return err
		}
		return b.Put(seqKey(seq), val)
	})
	if err != nil {
		return 0, fmt.Errorf("storing event %s: %w", e.ID, err)
	}
	return seq, nil
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// List implements EventStore.
func (s *BoltEventStore) List(_ context.Context, q EventQuery) ([]StoredEvent, error) {
	var out []StoredEvent
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(inboxBucket).Cursor()
		for k, v := c.Seek(seqKey(q.After + 1)); k != nil; k, v = c.Next() {
			if q.Limit > 0 && len(out) >= q.Limit {
				break
			}
			var se StoredEvent
			if err := json.Unmarshal(v, &se); err != nil {
				return fmt.Errorf("decoding stored event: %w", err)
			}
			if se.Received.Before(q.Since) || !events.Match(q.Types, se.Event.Type) {
				continue
			}
			out = append(out, se)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	return out, nil
}

// Prune implements EventStore. Events are appended in receive order, so
// the old ones are at the front.
func (s *BoltEventStore) Prune(_ context.Context, before time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(inboxBucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.First() {
			var se StoredEvent
			if err := json.Unmarshal(v, &se); err == nil && !se.Received.Before(before) {
				break
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pruning events: %w", err)
	}
	return n, nil
}

var _ EventStore = (*BoltEventStore)(nil)
