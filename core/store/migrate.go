package store

import (
	"bytes"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// migrateHook, when set (tests), runs after each record migrate converts,
// with the number converted so far; an error aborts the conversion.
var migrateHook func(converted int) error

// migrate converts a schema 1 file, whose records each hold their policy,
// to schema 2 (policies stored once, see policies.go) inside init's write
// transaction: a crash or an error part-way commits nothing, and the file
// opens next time as the schema 1 file it still is. Once it commits, Open
// copies the file compactly (compact.go): the old records' pages are free
// and bbolt would keep them. A record that does not
// decode (one planted in the clear in an encrypted database, or one a
// wrong key cannot open) stays as it is: reads refuse it exactly as they
// did, and converting it would launder it.
func (db *DB) migrate(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if s := meta.Get(keySchema); len(s) == 1 && s[0] >= schemaVersion {
		return nil
	}
	t, err := db.initTxn(tx)
	if err != nil {
		return err
	}
	var old [][]byte
	err = t.records.ForEach(func(k, v []byte) error {
		if len(v) > 0 && (v[0] == valuePlain || v[0] == valueSealed) {
			old = append(old, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	kept := 0
	for i, k := range old {
		rec, err := db.codec.decode(string(k), t.records.Get(k))
		if errors.Is(err, ErrUnsealed) || errors.Is(err, ErrDecrypt) || errors.Is(err, ErrCorrupt) {
			db.logger.Warn("left a record that does not decode in the old layout", "token_hash", short(string(k)), "error", err)
			kept++
			continue
		}
		if err != nil {
			return err
		}
		if _, err := t.storeRecord(rec); err != nil {
			return fmt.Errorf("converting record %s: %w", short(string(k)), err)
		}
		if i%1024 == 1023 {
			// Each old record is read once: do not keep a 40 MB file
			// resident while converting it.
			db.releasePagesTx(tx)
		}
		if migrateHook != nil {
			if err := migrateHook(i + 1); err != nil {
				return err
			}
		}
	}
	if err := t.flushRefs(); err != nil {
		return err
	}
	if err := meta.Put(keySchema, []byte{schemaVersion}); err != nil {
		return fmt.Errorf("writing schema version: %w", err)
	}
	if len(old) > 0 {
		db.logger.Info("stored each policy once (database schema 2)", "path", db.path,
			"records", len(old)-kept, "policies", len(t.shared))
	}
	return nil
}
