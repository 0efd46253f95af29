package rollup

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltStore is a Store in a bbolt file: central's database, or a proxy's
// own for its offline reports.
//
// Schema:
//
//	<bucket>                   (the name given to NewBoltStore)
//	├── rows
//	│   key:   minute uint64 BE | token hash | 0x00 | model | 0x00 | provider
//	│   value: JSON Counts
//	└── batches
//	    key:   batch id
//	    value: time stored, Unix seconds uint64 BE
type BoltStore struct {
	db     *bolt.DB
	bucket []byte
}

var (
	rowsBucket    = []byte("rows")
	batchesBucket = []byte("batches")
)

// NewBoltStore uses (and creates) the named top-level bucket in db. The
// caller owns db.
func NewBoltStore(db *bolt.DB, bucket string) (*BoltStore, error) {
	s := &BoltStore{db: db, bucket: []byte(bucket)}
	if db.IsReadOnly() {
		return s, nil
	}
	err := db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists(s.bucket)
		if err != nil {
			return err
		}
		if _, err := top.CreateBucketIfNotExists(rowsBucket); err != nil {
			return err
		}
		_, err = top.CreateBucketIfNotExists(batchesBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating bucket %q: %w", bucket, err)
	}
	return s, nil
}

func rowKey(k *Key) []byte {
	b := make([]byte, 8, 8+len(k.Token)+len(k.Model)+len(k.Provider)+2)
	binary.BigEndian.PutUint64(b, uint64(k.Minute))
	b = append(b, k.Token...)
	b = append(b, 0)
	b = append(b, k.Model...)
	b = append(b, 0)
	return append(b, k.Provider...)
}

func parseRowKey(b []byte) (Key, bool) {
	if len(b) < 10 {
		return Key{}, false
	}
	parts := bytes.SplitN(b[8:], []byte{0}, 3)
	if len(parts) != 3 {
		return Key{}, false
	}
	return Key{Minute: int64(binary.BigEndian.Uint64(b[:8])), Token: string(parts[0]), Model: string(parts[1]),
		Provider: string(parts[2])}, true
}

// Add implements Store.
func (s *BoltStore) Add(_ context.Context, b *Batch) (bool, error) {
	fresh := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		fresh, err = s.addTx(tx, b)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storing usage batch %s: %w", b.ID, err)
	}
	return fresh, nil
}

// addTx is Add inside tx, so the Shipper can store a batch locally and in
// its outbox in one transaction.
func (s *BoltStore) addTx(tx *bolt.Tx, b *Batch) (bool, error) {
	top := tx.Bucket(s.bucket)
	if top == nil {
		return false, fmt.Errorf("rollup: bucket %q missing", s.bucket)
	}
	ids := top.Bucket(batchesBucket)
	if ids.Get([]byte(b.ID)) != nil {
		return false, nil
	}
	err := func() error {
		rows := top.Bucket(rowsBucket)
		for i := range b.Rows {
			r := &b.Rows[i]
			key := rowKey(&r.Key)
			c := r.Counts
			if old := rows.Get(key); old != nil {
				var prev Counts
				if err := json.Unmarshal(old, &prev); err != nil {
					return fmt.Errorf("decoding stored row: %w", err)
				}
				prev.Add(&c)
				c = prev
			}
			val, err := json.Marshal(&c)
			if err != nil {
				return err
			}
			if err := rows.Put(key, val); err != nil {
				return err
			}
		}
		var at [8]byte
		binary.BigEndian.PutUint64(at[:], uint64(time.Now().Unix()))
		return ids.Put([]byte(b.ID), at[:])
	}()
	return err == nil, err
}

// Query implements Store.
func (s *BoltStore) Query(_ context.Context, since time.Time) ([]Row, error) {
	var out []Row
	err := s.db.View(func(tx *bolt.Tx) error {
		top := tx.Bucket(s.bucket)
		if top == nil {
			return nil // a file that never stored usage
		}
		var start [8]byte
		binary.BigEndian.PutUint64(start[:], uint64(max(minuteOf(since), 0)))
		c := top.Bucket(rowsBucket).Cursor()
		for k, v := c.Seek(start[:]); k != nil; k, v = c.Next() {
			key, ok := parseRowKey(k)
			if !ok {
				continue
			}
			r := Row{Key: key}
			if err := json.Unmarshal(v, &r.Counts); err != nil {
				return fmt.Errorf("decoding stored row: %w", err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading usage: %w", err)
	}
	return out, nil
}

// Prune implements Store.
func (s *BoltStore) Prune(_ context.Context, before time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		top := tx.Bucket(s.bucket)
		if top == nil {
			return nil
		}
		var end [8]byte
		binary.BigEndian.PutUint64(end[:], uint64(max(before.Unix(), 0)))
		c := top.Bucket(rowsBucket).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:min(8, len(k))], end[:]) < 0; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		ids := top.Bucket(batchesBucket).Cursor()
		for k, v := ids.First(); k != nil; {
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < before.Unix() {
				next := bytes.Clone(k) // k lives in a page the delete may change
				if err := ids.Delete(); err != nil {
					return err
				}
				k, v = ids.Seek(next)
				continue
			}
			k, v = ids.Next()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pruning usage: %w", err)
	}
	return n, nil
}

var _ Store = (*BoltStore)(nil)

// BatchID is a batch id a store remembers, with when it was stored (Unix
// seconds), so pruning treats it the same after a move to another store.
type BatchID struct {
	ID       string
	StoredAt int64
}

// BatchIDs returns the batch ids the store remembers, for `tokenomics
// migrate`: a proxy retrying a batch the old store took must find it
// taken in the new one too.
func (s *BoltStore) BatchIDs() ([]BatchID, error) {
	var out []BatchID
	err := s.db.View(func(tx *bolt.Tx) error {
		top := tx.Bucket(s.bucket)
		if top == nil {
			return nil
		}
		ids := top.Bucket(batchesBucket)
		if ids == nil {
			return nil
		}
		return ids.ForEach(func(k, v []byte) error {
			var at int64
			if len(v) == 8 {
				at = int64(binary.BigEndian.Uint64(v))
			}
			out = append(out, BatchID{ID: string(k), StoredAt: at})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading usage batch ids: %w", err)
	}
	return out, nil
}
