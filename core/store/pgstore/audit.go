package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AuditLog is the console's audit log in PostgreSQL (table
// tokenomics_console_audit): opaque entries, newest kept, shared by every
// replica.
type AuditLog struct{ s *Store }

// AuditLog returns the audit log on s's database.
func (s *Store) AuditLog() *AuditLog { return &AuditLog{s: s} }

// Append stores entry and drops all but the newest keep entries.
func (a *AuditLog) Append(ctx context.Context, entry []byte, keep int) error {
	ctx, cancel := a.s.bound(ctx)
	defer cancel()
	err := pgx.BeginFunc(ctx, a.s.pool, func(tx pgx.Tx) error {
		var seq int64
		if err := tx.QueryRow(ctx, `INSERT INTO tokenomics_console_audit (entry) VALUES ($1) RETURNING seq`, entry).Scan(&seq); err != nil {
			return err
		}
		if keep > 0 && seq > int64(keep) {
			_, err := tx.Exec(ctx, `DELETE FROM tokenomics_console_audit WHERE seq <= $1`, seq-int64(keep))
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing the console audit log: %w", err)
	}
	return nil
}

// Recent returns up to n entries, newest first.
func (a *AuditLog) Recent(ctx context.Context, n int) ([][]byte, error) {
	ctx, cancel := a.s.bound(ctx)
	defer cancel()
	rows, err := a.s.pool.Query(ctx, `SELECT entry FROM tokenomics_console_audit ORDER BY seq DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("reading the console audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("reading the console audit log: %w", err)
	}
	return out, nil
}

// Import stores entries (oldest first) in one transaction when the log is
// empty, and reports whether it did: a log that holds entries already was
// imported before or written by a replica, and is left alone, so running
// `tokenomics migrate` again never doubles it.
func (a *AuditLog) Import(ctx context.Context, entries [][]byte) (bool, error) {
	ctx, cancel := a.s.bound(ctx)
	defer cancel()
	done := false
	err := pgx.BeginFunc(ctx, a.s.pool, func(tx pgx.Tx) error {
		// The table lock makes the emptiness check and the inserts one step
		// against replicas appending at the same time.
		if _, err := tx.Exec(ctx, `LOCK TABLE tokenomics_console_audit IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		var held bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tokenomics_console_audit)`).Scan(&held); err != nil || held {
			return err
		}
		rows := make([][]any, len(entries))
		for i, e := range entries {
			rows[i] = []any{e}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"tokenomics_console_audit"}, []string{"entry"}, pgx.CopyFromRows(rows))
		done = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("importing the console audit log: %w", err)
	}
	return done, nil
}
