package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// UpdatePlugins runs fn in one transaction holding the state row, so
// every replica's registry writes are serialized; a changed revision is
// announced on tokenomics_plugins at commit.
func (s *Store) UpdatePlugins(fn func(store.PluginTx) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var rev uint64
		if err := tx.QueryRow(ctx, `SELECT plugin_revision FROM tokenomics_state WHERE id = 1 FOR UPDATE`).Scan(&rev); err != nil {
			return fmt.Errorf("locking the plugin registry: %w", err)
		}
		t := &pluginTx{ctx: ctx, tx: tx, rev: rev}
		if err := fn(t); err != nil {
			return err
		}
		if t.rev == rev {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE tokenomics_state SET plugin_revision = $1 WHERE id = 1`, int64(t.rev)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, chanPlugins, strconv.FormatUint(t.rev, 10))
		return err
	})
}

// ViewPlugins runs fn in a read-only snapshot.
func (s *Store) ViewPlugins(fn func(store.PluginTx) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var rev uint64
		if err := tx.QueryRow(ctx, `SELECT plugin_revision FROM tokenomics_state WHERE id = 1`).Scan(&rev); err != nil {
			return fmt.Errorf("reading the plugin registry: %w", err)
		}
		return fn(&pluginTx{ctx: ctx, tx: tx, rev: rev, readOnly: true})
	})
}

type pluginTx struct {
	ctx      context.Context
	tx       pgx.Tx
	rev      uint64
	readOnly bool
}

func (t *pluginTx) one(q string, arg string) ([]byte, error) {
	var v []byte
	err := t.tx.QueryRow(t.ctx, q, arg).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

func (t *pluginTx) Entry(key string) ([]byte, error) {
	return t.one(`SELECT value FROM tokenomics_plugin_entries WHERE key = $1`, key)
}

func (t *pluginTx) Entries(fn func(string, []byte) error) error {
	rows, err := t.tx.Query(t.ctx, `SELECT key, value FROM tokenomics_plugin_entries ORDER BY key`)
	if err != nil {
		return err
	}
	type kv struct {
		k string
		v []byte
	}
	var all []kv
	for rows.Next() {
		var e kv
		if err := rows.Scan(&e.k, &e.v); err != nil {
			return err
		}
		all = append(all, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// fn may query inside the same transaction: the rows are closed first.
	for _, e := range all {
		if err := fn(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

func (t *pluginTx) PutEntry(key string, v []byte) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO tokenomics_plugin_entries (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	return err
}

func (t *pluginTx) DeleteEntry(key string) error {
	_, err := t.tx.Exec(t.ctx, `DELETE FROM tokenomics_plugin_entries WHERE key = $1`, key)
	return err
}

func (t *pluginTx) Blob(sha string) ([]byte, error) {
	return t.one(`SELECT wasm FROM tokenomics_plugin_blobs WHERE sha = $1`, sha)
}

func (t *pluginTx) PutBlob(sha string, wasm []byte) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO tokenomics_plugin_blobs (sha, wasm) VALUES ($1, $2)
		ON CONFLICT (sha) DO UPDATE SET wasm = excluded.wasm`, sha, wasm)
	return err
}

func (t *pluginTx) DeleteBlob(sha string) error {
	_, err := t.tx.Exec(t.ctx, `DELETE FROM tokenomics_plugin_blobs WHERE sha = $1`, sha)
	return err
}

func (t *pluginTx) Revision() (uint64, error) { return t.rev, nil }

func (t *pluginTx) SetRevision(rev uint64) error {
	if t.readOnly {
		return errors.New("pgstore: SetRevision in a read-only transaction")
	}
	t.rev = rev
	return nil
}
