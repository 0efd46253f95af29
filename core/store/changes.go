package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Changes returns what changed after revision since, in revision order,
// and the current revision. since=0 is a full fetch: every live record and
// no tombstones. ErrResyncRequired means since is older than the pruned
// tombstones or newer than this database; the caller should fetch since=0.
func (db *DB) Changes(since uint64) ([]Change, uint64, error) {
	out := []Change{}
	var current uint64
	err := db.read(func(v *view) error {
		records, tombs, changeIdx, meta := v.records, v.tombs, v.changeIdx, v.meta
		v.cache = map[policyKey]json.RawMessage{}
		current = getUint64(meta, keyRevision)
		if since > current || (since > 0 && since < getUint64(meta, keyPruned)) {
			return ErrResyncRequired
		}
		if changeIdx == nil {
			return nil
		}
		c := changeIdx.Cursor()
		from := revKey(since + 1)
		for k, hash := c.Seek(from[:]); k != nil; k, hash = c.Next() {
			rev := binary.BigEndian.Uint64(k)
			if val := records.Get(hash); val != nil {
				rec, err := v.record(string(hash), val)
				if errors.Is(err, ErrUnsealed) {
					db.skipUnsealed(hash)
					continue
				}
				if err != nil {
					return err
				}
				out = append(out, Change{Revision: rev, Hash: rec.Hash, Record: &rec})
			} else if since > 0 && tombs.Get(hash) != nil {
				out = append(out, Change{Revision: rev, Hash: string(hash), Deleted: true})
			}
		}
		return nil
	})
	if err != nil {
		return nil, current, fmt.Errorf("reading changes since %d: %w", since, err)
	}
	return out, current, nil
}

// Apply persists changes fetched from another store (a proxy mirroring the
// central server): records and tombstones are written as given, keeping
// their revisions, and the database revision becomes revision. A revision
// older than the database's gives ErrStaleRevision and writes nothing.
func (db *DB) Apply(changes []Change, revision uint64) error {
	if err := checkChanges(changes, revision); err != nil {
		return fmt.Errorf("applying changes: %w", err)
	}
	err := db.write(func(t *txn) error {
		if revision < t.rev {
			return fmt.Errorf("%w: got %d, have %d", ErrStaleRevision, revision, t.rev)
		}
		for _, c := range changes {
			var err error
			if c.Deleted {
				err = t.putTombstone(c.Hash, c.Revision, t.db.now())
			} else {
				err = t.putRecord(mirrored(c))
			}
			if err != nil {
				return err
			}
		}
		t.rev = revision
		return nil
	})
	if err != nil {
		return fmt.Errorf("applying changes up to %d: %w", revision, err)
	}
	return nil
}

// Replace makes the database hold exactly the live records of changes (a
// full fetch, since=0) at revision, dropping every other record and all
// tombstones. Unlike Apply it may go backwards: a full fetch is the source
// of truth, even from a central server restored from a backup.
// Subscribers see a deletion for each dropped record and an upsert for
// each given one.
func (db *DB) Replace(changes []Change, revision uint64) error {
	if err := checkChanges(changes, revision); err != nil {
		return fmt.Errorf("replacing records: %w", err)
	}
	err := db.write(func(t *txn) error {
		keep := make(map[string]struct{}, len(changes))
		for _, c := range changes {
			if c.Deleted {
				return fmt.Errorf("%w: a full fetch has no tombstones (hash %s)", ErrInvalidChange, short(c.Hash))
			}
			keep[c.Hash] = struct{}{}
		}
		var dropped []Change
		err := t.records.ForEach(func(k, _ []byte) error {
			if _, ok := keep[string(k)]; !ok {
				dropped = append(dropped, Change{Revision: revision, Hash: string(k), Deleted: true})
			}
			return nil
		})
		if err != nil {
			return err
		}
		tx := t.records.Tx()
		// Every record goes, and with them every reference: the policies
		// go too, and the given records store theirs afresh.
		for _, name := range [][]byte{bucketRecords, bucketTombstones, bucketChanges, bucketPolicies} {
			if err := tx.DeleteBucket(name); err != nil {
				return fmt.Errorf("clearing bucket %s: %w", name, err)
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return fmt.Errorf("creating bucket %s: %w", name, err)
			}
		}
		t.records, t.tombs, t.changeIdx = tx.Bucket(bucketRecords), tx.Bucket(bucketTombstones), tx.Bucket(bucketChanges)
		t.policies = tx.Bucket(bucketPolicies)
		t.pack()
		clear(t.refs)
		clear(t.shared)
		t.changes = dropped
		for _, c := range changes {
			if err := t.putRecord(mirrored(c)); err != nil {
				return err
			}
		}
		t.rev = revision
		// The history before revision is gone: incremental readers of this
		// file must resync.
		return putUint64(t.meta, keyPruned, revision)
	})
	if err != nil {
		return fmt.Errorf("replacing records at %d: %w", revision, err)
	}
	return nil
}

// checkChanges validates changes before a transaction starts.
func checkChanges(changes []Change, revision uint64) error {
	seen := make(map[uint64]struct{}, len(changes))
	for i, c := range changes {
		switch {
		case !validHash(c.Hash):
			return fmt.Errorf("%w: change %d has a malformed hash", ErrInvalidChange, i)
		case c.Revision == 0 || c.Revision > revision:
			return fmt.Errorf("%w: change %d has revision %d outside 1..%d", ErrInvalidChange, i, c.Revision, revision)
		case !c.Deleted && c.Record == nil:
			return fmt.Errorf("%w: change %d has neither a record nor deleted", ErrInvalidChange, i)
		case !c.Deleted && !validPolicy(c.Record.Policy):
			return fmt.Errorf("%w: change %d: %w", ErrInvalidChange, i, ErrInvalidPolicy)
		}
		if _, dup := seen[c.Revision]; dup {
			return fmt.Errorf("%w: revision %d appears twice", ErrInvalidChange, c.Revision)
		}
		seen[c.Revision] = struct{}{}
	}
	return nil
}

// mirrored is the record of a change as the source had it.
func mirrored(c Change) Record {
	rec := c.Record.clone()
	rec.Hash = c.Hash
	rec.Revision = c.Revision
	return rec
}

// Compact drops tombstones deleted before now minus the retention and
// returns how many went. Readers whose revision predates a dropped
// tombstone get ErrResyncRequired from then on.
func (db *DB) Compact(now time.Time) (int, error) {
	cutoff := now.Add(-db.retention).UnixNano()
	var pruned int
	err := db.write(func(t *txn) error {
		floor := getUint64(t.meta, keyPruned)
		var drop [][]byte
		err := t.tombs.ForEach(func(k, v []byte) error {
			if len(v) != 16 || int64(binary.BigEndian.Uint64(v[8:])) >= cutoff {
				return nil
			}
			rev := binary.BigEndian.Uint64(v[:8])
			floor = max(floor, rev)
			drop = append(drop, append([]byte(nil), k...))
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := t.unindex(k); err != nil {
				return err
			}
			if err := t.tombs.Delete(k); err != nil {
				return err
			}
		}
		pruned = len(drop)
		return putUint64(t.meta, keyPruned, floor)
	})
	if err != nil {
		return 0, fmt.Errorf("compacting tombstones: %w", err)
	}
	return pruned, nil
}
