package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenomics-dev/tokenomics/core/rollup"
)

// Usage is the fleet's usage rollups in PostgreSQL (tables
// tokenomics_usage_*), shared by every replica. It implements
// rollup.Store.
type Usage struct{ s *Store }

// Usage returns the rollup store on s's database.
func (s *Store) Usage() *Usage { return &Usage{s: s} }

var _ rollup.Store = (*Usage)(nil)

// Add implements rollup.Store. The batch id is inserted first in the same
// transaction as the rows: a replica sent the same id at the same moment
// waits on the unique key, then finds it taken and adds nothing.
func (u *Usage) Add(ctx context.Context, b *rollup.Batch) (bool, error) {
	ctx, cancel := u.s.bound(ctx)
	defer cancel()
	fresh := false
	err := pgx.BeginFunc(ctx, u.s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO tokenomics_usage_batches (id, stored_at) VALUES ($1, $2)
			ON CONFLICT (id) DO NOTHING`, b.ID, u.s.now().Unix())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		var batch pgx.Batch
		for i := range b.Rows {
			r := &b.Rows[i]
			batch.Queue(`INSERT INTO tokenomics_usage_rows AS t (minute, token, model, provider, requests, input_tokens,
				cached_input_tokens, output_tokens, reasoning_tokens, cost_micros) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (minute, token, model, provider) DO UPDATE SET
				requests = t.requests + excluded.requests,
				input_tokens = t.input_tokens + excluded.input_tokens,
				cached_input_tokens = t.cached_input_tokens + excluded.cached_input_tokens,
				output_tokens = t.output_tokens + excluded.output_tokens,
				reasoning_tokens = t.reasoning_tokens + excluded.reasoning_tokens,
				cost_micros = t.cost_micros + excluded.cost_micros`,
				r.Minute, r.Token, r.Model, r.Provider, r.Requests, r.InputTokens, r.CachedInputTokens,
				r.OutputTokens, r.ReasoningTokens, r.CostMicros)
			for reason, n := range r.Refusals {
				batch.Queue(`INSERT INTO tokenomics_usage_refusals AS t (minute, token, model, provider, reason, n)
					VALUES ($1, $2, $3, $4, $5, $6)
					ON CONFLICT (minute, token, model, provider, reason) DO UPDATE SET n = t.n + excluded.n`,
					r.Minute, r.Token, r.Model, r.Provider, reason, n)
			}
		}
		if batch.Len() > 0 {
			if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
				return err
			}
		}
		fresh = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("storing usage batch %s: %w", b.ID, err)
	}
	return fresh, nil
}

// Query implements rollup.Store. Rows and refusals are read in one
// repeatable-read transaction so a concurrent Add is seen whole or not at
// all.
func (u *Usage) Query(ctx context.Context, since time.Time) ([]rollup.Row, error) {
	ctx, cancel := u.s.bound(ctx)
	defer cancel()
	from := max(since.Unix()-since.Unix()%60, 0) // the minute since falls in, as the bbolt store seeks
	var out []rollup.Row
	err := pgx.BeginTxFunc(ctx, u.s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT minute, token, model, provider, requests, input_tokens, cached_input_tokens,
			output_tokens, reasoning_tokens, cost_micros FROM tokenomics_usage_rows WHERE minute >= $1
			ORDER BY minute, token, model, provider`, from)
		if err != nil {
			return err
		}
		index := map[rollup.Key]int{}
		for rows.Next() {
			var r rollup.Row
			if err := rows.Scan(&r.Minute, &r.Token, &r.Model, &r.Provider, &r.Requests, &r.InputTokens,
				&r.CachedInputTokens, &r.OutputTokens, &r.ReasoningTokens, &r.CostMicros); err != nil {
				rows.Close()
				return err
			}
			index[r.Key] = len(out)
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT minute, token, model, provider, reason, n FROM tokenomics_usage_refusals
			WHERE minute >= $1`, from)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k rollup.Key
			var reason string
			var n int64
			if err := rows.Scan(&k.Minute, &k.Token, &k.Model, &k.Provider, &reason, &n); err != nil {
				return err
			}
			i, ok := index[k]
			if !ok {
				continue // its row was pruned between the two reads; cannot happen in one snapshot
			}
			if out[i].Refusals == nil {
				out[i].Refusals = map[string]int64{}
			}
			out[i].Refusals[reason] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading usage: %w", err)
	}
	return out, nil
}

// Prune implements rollup.Store.
func (u *Usage) Prune(ctx context.Context, before time.Time) (int, error) {
	ctx, cancel := u.s.bound(ctx)
	defer cancel()
	n := 0
	err := pgx.BeginFunc(ctx, u.s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM tokenomics_usage_rows WHERE minute < $1`, before.Unix())
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if _, err := tx.Exec(ctx, `DELETE FROM tokenomics_usage_refusals WHERE minute < $1`, before.Unix()); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM tokenomics_usage_batches WHERE stored_at < $1`, before.Unix())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning usage: %w", err)
	}
	return n, nil
}

// bound applies the store's query timeout to a caller's context.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// RememberBatches records batch ids stored elsewhere (a bbolt central being
// migrated) without rows, so a proxy retrying one of them is answered
// "stored before" here too. Ids already known are left as they are.
func (u *Usage) RememberBatches(ctx context.Context, ids []rollup.BatchID) error {
	ctx, cancel := u.s.bound(ctx)
	defer cancel()
	names := make([]string, len(ids))
	at := make([]int64, len(ids))
	for i, b := range ids {
		names[i], at[i] = b.ID, b.StoredAt
	}
	_, err := u.s.pool.Exec(ctx, `INSERT INTO tokenomics_usage_batches (id, stored_at)
		SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (id) DO NOTHING`, names, at)
	if err != nil {
		return fmt.Errorf("recording migrated usage batch ids: %w", err)
	}
	return nil
}
