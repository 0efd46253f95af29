package limits

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// BoltPersister keeps memory counters in a bbolt database, usually the
// proxy's own file.
//
// Schema:
//
//	<bucket>                      (the name given to NewBoltPersister)
//	└── budgets.v1                (replaced whole by every Save)
//	    key:   uvarint(len(subject)) | subject | budget key
//	    value: used int64 BE | unsynced int64 BE      (16 bytes)
type BoltPersister struct {
	db     *bolt.DB
	bucket []byte
}

var budgetsBucket = []byte("budgets.v1")

// NewBoltPersister uses (and creates) the named top-level bucket in db. The
// caller owns db and closes it after the Memory.
func NewBoltPersister(db *bolt.DB, bucket string) (*BoltPersister, error) {
	p := &BoltPersister{db: db, bucket: []byte(bucket)}
	err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(p.bucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating bucket %q: %w", bucket, err)
	}
	return p, nil
}

// Save implements Persister in one transaction.
func (p *BoltPersister) Save(cs []Counter) error {
	err := p.db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists(p.bucket)
		if err != nil {
			return err
		}
		if top.Bucket(budgetsBucket) != nil {
			if err := top.DeleteBucket(budgetsBucket); err != nil {
				return err
			}
		}
		b, err := top.CreateBucket(budgetsBucket)
		if err != nil {
			return err
		}
		// bbolt keeps the slices given to Put until commit: one buffer, not one reused.
		vals := make([]byte, 16*len(cs))
		for i, c := range cs {
			val := vals[16*i : 16*i+16 : 16*i+16]
			binary.BigEndian.PutUint64(val[:8], uint64(c.Used))
			binary.BigEndian.PutUint64(val[8:], uint64(c.Unsynced))
			if err := b.Put(encodeCounterKey(c.Subject, c.Key), val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("saving %d limit counters: %w", len(cs), err)
	}
	return nil
}

// Load implements Persister.
func (p *BoltPersister) Load() ([]Counter, error) {
	var out []Counter
	err := p.db.View(func(tx *bolt.Tx) error {
		top := tx.Bucket(p.bucket)
		if top == nil {
			return nil
		}
		b := top.Bucket(budgetsBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			subject, key, ok := decodeCounterKey(k)
			if !ok || len(v) != 16 {
				return fmt.Errorf("%w: bad entry %q", ErrCorrupt, k)
			}
			out = append(out, Counter{
				Subject:  subject,
				Key:      key,
				Used:     int64(binary.BigEndian.Uint64(v[:8])),
				Unsynced: int64(binary.BigEndian.Uint64(v[8:])),
			})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("loading limit counters: %w", err)
	}
	return out, nil
}

func encodeCounterKey(subject, key string) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(subject)+len(key))
	b = binary.AppendUvarint(b, uint64(len(subject)))
	b = append(b, subject...)
	return append(b, key...)
}

func decodeCounterKey(k []byte) (subject, key string, ok bool) {
	n, w := binary.Uvarint(k)
	if w <= 0 || n > uint64(len(k)-w) {
		return "", "", false
	}
	return string(k[w : w+int(n)]), string(k[w+int(n):]), true
}

var _ Persister = (*BoltPersister)(nil)
