package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Export is a store's whole change feed, tombstones included, for moving
// it to another backend (tokenomics migrate) without losing the history
// proxies pull since= from.
type Export struct {
	Changes  []Change // every live record and tombstone at its revision, in revision order
	Revision uint64   // the latest revision
	Pruned   uint64   // the highest revision of a pruned tombstone
}

// Export reads the whole feed in one read transaction.
func (db *DB) Export() (Export, error) {
	var ex Export
	err := db.read(func(v *view) error {
		records, tombs, changeIdx, meta := v.records, v.tombs, v.changeIdx, v.meta
		v.cache = map[policyKey]json.RawMessage{}
		ex.Revision, ex.Pruned = getUint64(meta, keyRevision), getUint64(meta, keyPruned)
		if changeIdx == nil {
			return nil
		}
		return changeIdx.ForEach(func(k, hash []byte) error {
			rev := binary.BigEndian.Uint64(k)
			if val := records.Get(hash); val != nil {
				rec, err := v.record(string(hash), val)
				if errors.Is(err, ErrUnsealed) {
					db.skipUnsealed(hash)
					return nil
				}
				if err != nil {
					return err
				}
				ex.Changes = append(ex.Changes, Change{Revision: rev, Hash: rec.Hash, Record: &rec})
			} else if tombs.Get(hash) != nil {
				ex.Changes = append(ex.Changes, Change{Revision: rev, Hash: string(hash), Deleted: true})
			}
			return nil
		})
	})
	if err != nil {
		return Export{}, fmt.Errorf("exporting the change feed: %w", err)
	}
	return ex, nil
}

// CopyPlugins copies every registry entry, binary and the revision from
// src to dst in one dst transaction.
func CopyPlugins(dst, src PluginStore) (entries int, err error) {
	type kv struct {
		k string
		v []byte
	}
	var es []kv
	blobs := map[string][]byte{}
	var rev uint64
	err = src.ViewPlugins(func(tx PluginTx) error {
		var err error
		if rev, err = tx.Revision(); err != nil {
			return err
		}
		return tx.Entries(func(k string, v []byte) error {
			es = append(es, kv{k, v})
			sha := k[strings.LastIndexByte(k, '/')+1:]
			if _, ok := blobs[sha]; !ok {
				b, err := tx.Blob(sha)
				if err != nil {
					return err
				}
				blobs[sha] = b
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("reading the plugin registry: %w", err)
	}
	err = dst.UpdatePlugins(func(tx PluginTx) error {
		for _, e := range es {
			if err := tx.PutEntry(e.k, e.v); err != nil {
				return err
			}
		}
		for sha, b := range blobs {
			if b == nil {
				continue
			}
			if err := tx.PutBlob(sha, b); err != nil {
				return err
			}
		}
		return tx.SetRevision(rev)
	})
	if err != nil {
		return 0, fmt.Errorf("writing the plugin registry: %w", err)
	}
	return len(es), nil
}
