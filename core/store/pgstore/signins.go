package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConsoleSignins keeps the console's failed sign-in allowances in
// PostgreSQL (table tokenomics_console_signins), shared by every replica
// (central/console's SigninStore): a bucket of burst tries per source key
// that refills by one per refill.
type ConsoleSignins struct{ s *Store }

// ConsoleSignins returns the sign-in allowance table on s's database.
func (s *Store) ConsoleSignins() *ConsoleSignins { return &ConsoleSignins{s: s} }

// refilled is the SQL for row t's allowance at $3, refilled by one per $4
// seconds since it last changed, at most $2 (burst).
const refilled = `least($2::double precision, t.tokens +
	greatest(0, extract(epoch FROM ($3::timestamptz - t.updated)))::double precision / $4::double precision)`

// Take takes one try from key's allowance at now (burst when none is
// recorded) in one statement, guarded by the allowance: the row lock makes
// tries on several replicas at once queue, and each sees the ones before
// it, so no more than the allowance pass. ok is false, and nothing is
// taken, when less than one try is left.
func (c *ConsoleSignins) Take(ctx context.Context, key string, now time.Time, burst float64, refill time.Duration) (bool, error) {
	ctx, cancel := c.s.bound(ctx)
	defer cancel()
	var ok bool
	err := pgx.BeginFunc(ctx, c.s.pool, func(tx pgx.Tx) error {
		var inserted bool
		err := tx.QueryRow(ctx, `INSERT INTO tokenomics_console_signins AS t (key, tokens, updated) VALUES ($1, $2::double precision - 1, $3::timestamptz)
			ON CONFLICT (key) DO UPDATE SET tokens = `+refilled+` - 1, updated = greatest(t.updated, $3::timestamptz)
			WHERE `+refilled+` >= 1
			RETURNING (xmax = 0)`, key, burst, now.UTC(), refill.Seconds()).Scan(&inserted)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // locked out: the guard kept the row as it was
		}
		if err != nil {
			return err
		}
		ok = true
		if !inserted {
			return nil
		}
		// A new source: drop the ones refilled to the full allowance.
		_, err = tx.Exec(ctx, `DELETE FROM tokenomics_console_signins WHERE updated < $1`,
			now.UTC().Add(-time.Duration(burst*float64(refill))))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("taking a console sign-in try: %w", err)
	}
	return ok, nil
}

// Give returns one try to key's allowance (its key was right), at most
// burst.
func (c *ConsoleSignins) Give(ctx context.Context, key string, now time.Time, burst float64, refill time.Duration) error {
	ctx, cancel := c.s.bound(ctx)
	defer cancel()
	_, err := c.s.pool.Exec(ctx, `UPDATE tokenomics_console_signins AS t
		SET tokens = least($2::double precision, `+refilled+` + 1), updated = greatest(t.updated, $3::timestamptz)
		WHERE key = $1`, key, burst, now.UTC(), refill.Seconds())
	if err != nil {
		return fmt.Errorf("giving back a console sign-in try: %w", err)
	}
	return nil
}
