package console

// Bucket schema, inside the central database's file:
//
//	console_signins
//	└── hex SHA-256 of the source address → signinRecord JSON
//
// A record refilled to the full allowance carries nothing: such records
// are dropped when a new source takes a try.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/central/clientaddr"
)

// SigninStore keeps the failed sign-in allowance of each source outside
// the process, so every replica of a PostgreSQL central (and a restarted
// server) throttles a source by all its tries, wherever the load balancer
// sent them: otherwise N replicas would grant N times the tries. The
// allowance is a bucket of burst tries that refills by one per refill;
// keys are the hex SHA-256 of the source (signinSource).
//
// A try is taken before the key is compared and given back when the key
// was right, so tries sent at once to several replicas cannot all pass a
// check before any failure is counted.
type SigninStore interface {
	// Take takes one try from key's allowance at now (burst for a source
	// never seen, refilled since its last change, at most burst) in one
	// atomic step across replicas. ok is false, and nothing is taken,
	// when less than one try is left.
	Take(ctx context.Context, key string, now time.Time, burst float64, refill time.Duration) (ok bool, err error)
	// Give returns one try to key's allowance (the key was right), at
	// most burst.
	Give(ctx context.Context, key string, now time.Time, burst float64, refill time.Duration) error
}

func signinKey(src string) string {
	h := sha256.Sum256([]byte("console-signin\x00" + signinSource(src)))
	return hex.EncodeToString(h[:])
}

// signinSource is what sign-in tries are counted by (clientaddr.Counted):
// an IPv4 address as itself, an IPv6 address by its /64.
func signinSource(src string) string { return clientaddr.Counted(src) }

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
type boltSignins struct {
	db *bbolt.DB

	// The prune of refilled records runs at most once per refill
	// interval: it visits every record inside the write transaction that
	// token changes wait for too, so pruning on every new source made a
	// flood of sources (an IPv6 /48 holds 65,536 /64s) cost O(n²). Only
	// one process opens the bbolt file, so this state is the file's.
	mu        sync.Mutex
	lastPrune time.Time
	visited   int64 // records the prunes visited, for tests
}

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

// update runs change on key's refilled allowance in one bbolt Update
// transaction (so a Take is atomic across handles on the file) and stores
// what it returns; keep false stores nothing.
func (b *boltSignins) update(key string, now time.Time, burst float64, refill time.Duration, change func(left float64) (float64, bool)) error {
	err := b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketSignins)
		left := burst
		v := bk.Get([]byte(key))
		if v != nil {
			var r signinRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decoding a console sign-in record: %w", err)
			}
			left = refillSignin(r.Tokens, r.Updated, now, burst, refill)
		}
		left, keep := change(left)
		if !keep {
			return nil
		}
		if v == nil && b.pruneDue(now, refill) {
			n, err := pruneSignins(bk, now, burst, refill)
			b.mu.Lock()
			b.visited += int64(n)
			b.mu.Unlock()
			if err != nil {
				return err
			}
		}
		v, err := json.Marshal(signinRecord{Tokens: left, Updated: now})
		if err != nil {
			return err
		}
		return bk.Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("updating the console sign-in allowance: %w", err)
	}
	return nil
}

func (b *boltSignins) Take(_ context.Context, key string, now time.Time, burst float64, refill time.Duration) (bool, error) {
	var ok bool
	err := b.update(key, now, burst, refill, func(left float64) (float64, bool) {
		ok = left >= 1
		return left - 1, ok
	})
	return ok && err == nil, err
}

func (b *boltSignins) Give(_ context.Context, key string, now time.Time, burst float64, refill time.Duration) error {
	return b.update(key, now, burst, refill, func(left float64) (float64, bool) {
		return min(burst, left+1), left < burst
	})
}

// pruneDue reports whether a prune should run at now (and, if so, notes
// it): the first, one refill interval after the last, or when the clock
// went back.
func (b *boltSignins) pruneDue(now time.Time, refill time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.lastPrune.IsZero() && now.Sub(b.lastPrune) < refill && !now.Before(b.lastPrune) {
		return false
	}
	b.lastPrune = now
	return true
}

// pruneSignins drops the records refilled to the full allowance and
// returns how many records it visited.
func pruneSignins(bk *bbolt.Bucket, now time.Time, burst float64, refill time.Duration) (int, error) {
	var dead [][]byte
	visited := 0
	err := bk.ForEach(func(k, v []byte) error {
		visited++
		var r signinRecord
		if json.Unmarshal(v, &r) != nil || refillSignin(r.Tokens, r.Updated, now, burst, refill) >= burst {
			dead = append(dead, k)
		}
		return nil
	})
	if err != nil {
		return visited, err
	}
	for _, k := range dead {
		if err := bk.Delete(k); err != nil {
			return visited, err
		}
	}
	return visited, nil
}
