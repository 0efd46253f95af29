package console

// Bucket schema, inside the central database's file:
//
//	console_signins
//	└── hex SHA-256 of the source address → signinRecord JSON
//
// A record refilled to the full allowance carries nothing: such records
// are dropped when a new source fails.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// SigninStore keeps the failed sign-in allowance of each source address
// outside the process, so every replica of a PostgreSQL central (and a
// restarted server) throttles a source by all its failures, wherever the
// load balancer sent them: otherwise N replicas would grant N times the
// tries. The allowance is a bucket of burst tries that refills by one per
// refill; keys are the hex SHA-256 of the source.
type SigninStore interface {
	// Signin returns key's allowance at now (burst for a source never
	// seen, refilled since its last failure, at most burst). With fail
	// set it first takes one try, atomically across replicas, and returns
	// what is left.
	Signin(ctx context.Context, key string, now time.Time, burst float64, refill time.Duration, fail bool) (float64, error)
}

func signinKey(src string) string {
	h := sha256.Sum256([]byte("console-signin\x00" + src))
	return hex.EncodeToString(h[:])
}

// Refill returns the allowance of a bucket that had tokens at updated, at
// now. A clock that went back refills nothing.
func refillSignin(tokens float64, updated, now time.Time, burst float64, refill time.Duration) float64 {
	if d := now.Sub(updated); d > 0 {
		tokens += d.Seconds() / refill.Seconds()
	}
	return min(burst, tokens)
}

var bucketSignins = []byte("console_signins")

// boltSignins is a SigninStore in the central bbolt file.
type boltSignins struct{ db *bbolt.DB }

type signinRecord struct {
	Tokens  float64   `json:"tokens"`
	Updated time.Time `json:"updated"`
}

func openBoltSignins(db *bbolt.DB) (*boltSignins, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketSignins)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating the console sign-in bucket: %w", err)
	}
	return &boltSignins{db: db}, nil
}

func (b *boltSignins) Signin(_ context.Context, key string, now time.Time, burst float64, refill time.Duration, fail bool) (float64, error) {
	left := burst
	read := func(bk *bbolt.Bucket) (bool, error) {
		v := bk.Get([]byte(key))
		if v == nil {
			return false, nil
		}
		var r signinRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return true, fmt.Errorf("decoding a console sign-in record: %w", err)
		}
		left = refillSignin(r.Tokens, r.Updated, now, burst, refill)
		return true, nil
	}
	var err error
	if !fail {
		err = b.db.View(func(tx *bbolt.Tx) error { _, err := read(tx.Bucket(bucketSignins)); return err })
	} else {
		err = b.db.Update(func(tx *bbolt.Tx) error {
			bk := tx.Bucket(bucketSignins)
			found, err := read(bk)
			if err != nil {
				return err
			}
			if !found {
				if err := pruneSignins(bk, now, burst, refill); err != nil {
					return err
				}
			}
			left = max(0, left-1)
			v, err := json.Marshal(signinRecord{Tokens: left, Updated: now})
			if err != nil {
				return err
			}
			return bk.Put([]byte(key), v)
		})
	}
	if err != nil {
		return 0, fmt.Errorf("reading the console sign-in allowance: %w", err)
	}
	return left, nil
}

// pruneSignins drops the records refilled to the full allowance.
func pruneSignins(bk *bbolt.Bucket, now time.Time, burst float64, refill time.Duration) error {
	var dead [][]byte
	err := bk.ForEach(func(k, v []byte) error {
		var r signinRecord
		if json.Unmarshal(v, &r) != nil || refillSignin(r.Tokens, r.Updated, now, burst, refill) >= burst {
			dead = append(dead, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := bk.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
