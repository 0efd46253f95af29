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
