package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestW5RRefsUnderConcurrentWriters drives every write path at once on an
// encrypted file (Create, CreateMany, Update switching policies, Delete,
// Apply of upserts, tombstones and an upsert dropped again in the same
// batch, Replace, Compact, Rekey) while Each walks it, then checks the
// reference counts against the records, before and after a reopen: no
// drift, no orphan, no record naming a missing policy.
func TestW5RRefsUnderConcurrentWriters(t *testing.T) {
	path := t.TempDir() + "/tokens.db"
	key := append([]byte(nil), testEncKey...)
	db := openAt(t, path, func(o *Options) { o.EncryptionKey = key })
	pols := make([]json.RawMessage, 6)
	for i := range pols {
		pols[i] = policyJSON(fmt.Sprintf("m%d", i))
	}
	var mu sync.Mutex // guards hashes
	var hashes []string
	pick := func(r *rand.Rand) string {
		mu.Lock()
		defer mu.Unlock()
		if len(hashes) == 0 {
			return ""
		}
		return hashes[r.IntN(len(hashes))]
	}
	add := func(h string) { mu.Lock(); hashes = append(hashes, h); mu.Unlock() }
	var rekeyMu sync.Mutex // Rekey changes the key later opens need
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	worker := func(seed uint64, n int, op func(r *rand.Rand) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, seed))
			for range n {
				if err := op(r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	ignore := func(err error) error {
		if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrStaleRevision) {
			return nil
		}
		return err
	}
	worker(1, 150, func(r *rand.Rand) error {
		_, rec, err := db.Create(pols[r.IntN(len(pols))], nil)
		if err == nil {
			add(rec.Hash)
		}
		return err
	})
	worker(2, 30, func(r *rand.Rand) error {
		toks, err := db.CreateMany([]json.RawMessage{pols[r.IntN(len(pols))], pols[r.IntN(len(pols))]}, nil)
		for _, tk := range toks {
			add(db.hasher.Hash(tk))
		}
		return err
	})
	worker(3, 150, func(r *rand.Rand) error {
		h := pick(r)
		if h == "" {
			return nil
		}
		p := pols[r.IntN(len(pols))]
		_, err := db.Update(h, func(rec *Record) error { rec.Policy = p; return nil })
		return ignore(err)
	})
	worker(4, 80, func(r *rand.Rand) error {
		h := pick(r)
		if h == "" {
			return nil
		}
		_, err := db.Delete(h)
		return ignore(err)
	})
	worker(5, 80, func(r *rand.Rand) error {
		rev := db.revision.Load()
		now := time.Now().UTC()
		h := fakeHash(fmt.Sprintf("%08x", r.Uint32()), 'a')
		up := func(p json.RawMessage, rv uint64) Change {
			return Change{Revision: rv, Hash: h, Record: &Record{Policy: p, CreatedAt: now, UpdatedAt: now}}
		}
		var changes []Change
		switch r.IntN(3) {
		case 0:
			changes = []Change{up(pols[r.IntN(len(pols))], rev+1)}
			add(h)
		case 1: // written and dropped in one batch, with a fresh policy
			changes = []Change{up(policyJSON(fmt.Sprintf("once-%d", r.Uint32())), rev+1), {Revision: rev + 2, Hash: h, Deleted: true}}
		case 2:
			if o := pick(r); o != "" {
				changes = []Change{{Revision: rev + 1, Hash: o, Deleted: true}}
			} else {
				return nil
			}
		}
		return ignore(db.Apply(changes, rev+uint64(len(changes))))
	})
	worker(6, 40, func(r *rand.Rand) error {
		_, err := db.Compact(time.Now().Add(time.Hour))
		return err
	})
	worker(7, 8, func(r *rand.Rand) error {
		rekeyMu.Lock()
		defer rekeyMu.Unlock()
		next := make([]byte, EncryptionKeyLen)
		for i := range next {
			next[i] = byte(r.Uint32())
		}
		if _, err := db.Rekey(next, nil); err != nil {
			return err
		}
		key = next
		return nil
	})
	worker(8, 40, func(r *rand.Rand) error {
		return db.Each(func(rec Record) error {
			if !validPolicy(rec.Policy) {
				return fmt.Errorf("record %s has policy %q", short(rec.Hash), rec.Policy)
			}
			return nil
		})
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requireRefs(t, db)
	// A full fetch replacing half of it, then the invariants again.
	recs, err := db.List()
	require.NoError(t, err)
	var changes []Change
	rev := db.revision.Load() + 1
	for i := range recs[:len(recs)/2] {
		rec := recs[i]
		changes = append(changes, Change{Revision: rev + uint64(i), Hash: rec.Hash, Record: &rec})
	}
	require.NoError(t, db.Replace(changes, rev+uint64(len(changes))))
	requireRefs(t, db)
	require.NoError(t, db.Close())
	db2 := openAt(t, path, func(o *Options) { o.EncryptionKey = key })
	requireRefs(t, db2)
}
