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

// Signin returns key's allowance at now, refilled since its last failure
// (burst when none is recorded). With fail set it takes one try first, in
// one statement: concurrent failures on several replicas each count.
func (c *ConsoleSignins) Signin(ctx context.Context, key string, now time.Time, burst float64, refill time.Duration, fail bool) (float64, error) {
	ctx, cancel := c.s.bound(ctx)
	defer cancel()
	per := refill.Seconds()
	if !fail {
		var tokens float64
		var updated time.Time
		err := c.s.pool.QueryRow(ctx, `SELECT tokens, updated FROM tokenomics_console_signins WHERE key = $1`, key).Scan(&tokens, &updated)
		if errors.Is(err, pgx.ErrNoRows) {
			return burst, nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading a console sign-in allowance: %w", err)
		}
		if d := now.Sub(updated); d > 0 {
			tokens += d.Seconds() / per
		}
		return min(burst, tokens), nil
	}
	var left float64
	err := pgx.BeginFunc(ctx, c.s.pool, func(tx pgx.Tx) error {
		var inserted bool
		err := tx.QueryRow(ctx, `INSERT INTO tokenomics_console_signins AS t (key, tokens, updated) VALUES ($1, $2::double precision - 1, $3::timestamptz)
			ON CONFLICT (key) DO UPDATE SET
				tokens = greatest(0, least($2::double precision,
					t.tokens + greatest(0, extract(epoch FROM ($3::timestamptz - t.updated)))::double precision / $4::double precision) - 1),
				updated = greatest(t.updated, $3::timestamptz)
			RETURNING tokens, (xmax = 0)`, key, burst, now.UTC(), per).Scan(&left, &inserted)
		if err != nil || !inserted {
			return err
		}
		// A new source: drop the ones refilled to the full allowance.
		_, err = tx.Exec(ctx, `DELETE FROM tokenomics_console_signins WHERE updated < $1`,
			now.UTC().Add(-time.Duration(burst*float64(refill))))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("recording a failed console sign-in: %w", err)
	}
	return max(0, left), nil
}
