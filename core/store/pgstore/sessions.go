package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConsoleSessions keeps the console's sign-in sessions in PostgreSQL
// (table tokenomics_console_sessions), shared by every replica. Values are
// opaque to this package (central/console's SessionStore).
type ConsoleSessions struct{ s *Store }

// ConsoleSessions returns the session table on s's database.
func (s *Store) ConsoleSessions() *ConsoleSessions { return &ConsoleSessions{s: s} }

// LoadSession returns key's value unless it is missing or expired.
func (c *ConsoleSessions) LoadSession(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := c.s.bound(ctx)
	defer cancel()
	var v []byte
	err := c.s.pool.QueryRow(ctx, `SELECT value FROM tokenomics_console_sessions WHERE key = $1 AND expires > $2`,
		key, c.s.now()).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading a console session: %w", err)
	}
	return v, true, nil
}

// SaveSession creates or replaces key's value. Creating one also drops
// the expired sessions, so the table holds about the live ones.
func (c *ConsoleSessions) SaveSession(ctx context.Context, key string, value []byte, expires time.Time) error {
	ctx, cancel := c.s.bound(ctx)
	defer cancel()
	err := pgx.BeginFunc(ctx, c.s.pool, func(tx pgx.Tx) error {
		var inserted bool
		err := tx.QueryRow(ctx, `INSERT INTO tokenomics_console_sessions (key, expires, value) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET expires = EXCLUDED.expires, value = EXCLUDED.value
			RETURNING (xmax = 0)`, key, expires.UTC(), value).Scan(&inserted)
		if err != nil || !inserted {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM tokenomics_console_sessions WHERE expires <= $1`, c.s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("storing a console session: %w", err)
	}
	return nil
}

// DeleteSession ends key's session.
func (c *ConsoleSessions) DeleteSession(ctx context.Context, key string) error {
	ctx, cancel := c.s.bound(ctx)
	defer cancel()
	if _, err := c.s.pool.Exec(ctx, `DELETE FROM tokenomics_console_sessions WHERE key = $1`, key); err != nil {
		return fmt.Errorf("ending a console session: %w", err)
	}
	return nil
}
