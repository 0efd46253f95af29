package events

// Durable outbox in bbolt. Bucket schema:
//
//	<Bucket>                         top level; its sequence numbers events
//	└── <target key>                 one bucket per target: hex(sha256(URL))[:32]
//	    └── <seq, 8 bytes BE>  →  record
//
//	record = 0x01 (format version)
//	         uvarint attempts
//	         varint  created (unix nanoseconds)
//	         uvarint len(event id)   event id
//	         uvarint len(event type) event type
//	         body (the event JSON, exactly the bytes that are signed and sent)
//
// A record exists from before the first attempt until the delivery is done
// (delivered, rejected or dead-lettered). One event sent to three targets is
// three records under the same seq. The target key is a digest so that a
// URL carrying a credential (Slack) is not spelled out as a bucket name.

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

const recordVersion = 1

var errBadRecord = errors.New("events: corrupt outbox record")

type outbox struct {
	db     *bolt.DB
	bucket []byte
}

func targetKey(url string) []byte {
	sum := sha256.Sum256([]byte(url))
	return []byte(hex.EncodeToString(sum[:16]))
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

func encodeRecord(d *delivery) []byte {
	b := make([]byte, 0, 32+len(d.eventID)+len(d.eventType)+len(d.body))
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(d.attempts))
	b = binary.AppendVarint(b, d.created.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(d.eventID)))
	b = append(b, d.eventID...)
	b = binary.AppendUvarint(b, uint64(len(d.eventType)))
	b = append(b, d.eventType...)
	return append(b, d.body...)
}

// decodeRecord copies everything out of v, which bbolt owns.
func decodeRecord(seq uint64, v []byte) (*delivery, error) {
	if len(v) == 0 || v[0] != recordVersion {
		return nil, errBadRecord
	}
	v = v[1:]
	attempts, n := binary.Uvarint(v)
	if n <= 0 {
		return nil, errBadRecord
	}
	v = v[n:]
	created, n := binary.Varint(v)
	if n <= 0 {
		return nil, errBadRecord
	}
	v = v[n:]
	str := func() (string, bool) {
		l, n := binary.Uvarint(v)
		if n <= 0 || l > uint64(len(v)-n) {
			return "", false
		}
		s := string(v[n : n+int(l)])
		v = v[n+int(l):]
		return s, true
	}
	id, ok1 := str()
	typ, ok2 := str()
	if !ok1 || !ok2 || attempts > 1<<20 {
		return nil, errBadRecord
	}
	return &delivery{
		seq:       seq,
		eventID:   id,
		eventType: typ,
		created:   time.Unix(0, created),
		attempts:  int(attempts),
		body:      append([]byte(nil), v...),
		durable:   true,
	}, nil
}

// insert writes one record per target under a fresh seq, inside the
// caller's write transaction.
func (o *outbox) insert(tx *bolt.Tx, d *delivery, keys [][]byte) (uint64, error) {
	top, err := tx.CreateBucketIfNotExists(o.bucket)
	if err != nil {
		return 0, fmt.Errorf("creating outbox bucket: %w", err)
	}
	seq, err := top.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("numbering event: %w", err)
	}
	rec := encodeRecord(d)
	for _, k := range keys {
		b, err := top.CreateBucketIfNotExists(k)
		if err != nil {
			return 0, fmt.Errorf("creating outbox target bucket: %w", err)
		}
		if err := b.Put(seqKey(seq), rec); err != nil {
			return 0, fmt.Errorf("writing delivery: %w", err)
		}
	}
	return seq, nil
}

// remove deletes a finished delivery. Batch coalesces the fsyncs of
// concurrent workers.
func (o *outbox) remove(key []byte, seq uint64) error {
	return o.db.Batch(func(tx *bolt.Tx) error {
		if b := o.target(tx, key); b != nil {
			return b.Delete(seqKey(seq))
		}
		return nil
	})
}

// update rewrites a pending delivery's record (its attempt count), unless it
// is gone already.
func (o *outbox) update(key []byte, d *delivery) error {
	rec := encodeRecord(d)
	return o.db.Batch(func(tx *bolt.Tx) error {
		b := o.target(tx, key)
		if b == nil || b.Get(seqKey(d.seq)) == nil {
			return nil
		}
		return b.Put(seqKey(d.seq), rec)
	})
}

func (o *outbox) target(tx *bolt.Tx, key []byte) *bolt.Bucket {
	top := tx.Bucket(o.bucket)
	if top == nil {
		return nil
	}
	return top.Bucket(key)
}

// load reads up to limit deliveries of one target with seq >= from, skipping
// those skip reports. next is the first seq it stopped before (0 when it
// reached the end). Corrupt records are returned in bad for removal.
func (o *outbox) load(key []byte, from uint64, limit int, skip func(uint64) bool) (ds []*delivery, next uint64, bad []uint64, err error) {
	err = o.db.View(func(tx *bolt.Tx) error {
		b := o.target(tx, key)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(seqKey(from)); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				continue
			}
			seq := binary.BigEndian.Uint64(k)
			if skip(seq) {
				continue
			}
			if len(ds) >= limit {
				next = seq
				return nil
			}
			d, err := decodeRecord(seq, v)
			if err != nil {
				bad = append(bad, seq)
				continue
			}
			ds = append(ds, d)
		}
		return nil
	})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("reading outbox: %w", err)
	}
	return ds, next, bad, nil
}

// prepare creates the outbox, deletes the buckets of targets no longer
// configured (returning how many deliveries that dropped), and counts what
// is pending for the others. seq is the event sequence at that moment:
// every record counted has seq <= it, every later one a greater seq.
func (o *outbox) prepare(keep map[string]bool) (orphaned, pending int, seq uint64, err error) {
	err = o.db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists(o.bucket)
		if err != nil {
			return fmt.Errorf("creating outbox bucket: %w", err)
		}
		var gone [][]byte
		err = top.ForEachBucket(func(k []byte) error {
			n := top.Bucket(k).Stats().KeyN
			if keep[string(k)] {
				pending += n
				return nil
			}
			orphaned += n
			gone = append(gone, append([]byte(nil), k...))
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := top.DeleteBucket(k); err != nil {
				return fmt.Errorf("deleting outbox of a removed target: %w", err)
			}
		}
		seq = top.Sequence()
		return nil
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("preparing outbox: %w", err)
	}
	return orphaned, pending, seq, nil
}
