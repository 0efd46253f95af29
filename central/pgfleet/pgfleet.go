package pgfleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/core/fleet"
)

// Store is a central.FleetStore in table tokenomics_fleet: one row per
// proxy instance holding its latest report.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	max     int
}

var _ central.FleetStore = (*Store)(nil)

// New uses pool (pgstore.Store.Pool); timeout bounds each call; the table
// holds at most max proxies (central.DefaultFleetMax when max <= 0), the
// bound the in-memory store keeps, so a caller inventing instance ids
// cannot grow it without limit.
func New(pool *pgxpool.Pool, timeout time.Duration, max int) *Store {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if max <= 0 {
		max = central.DefaultFleetMax
	}
	return &Store{pool: pool, timeout: timeout, max: max}
}

// Put implements central.FleetStore. A report from an instance not seen
// before trims the table to max rows, dropping the proxies heard from
// least recently; a heartbeat of a known instance is one upsert.
func (s *Store) Put(ctx context.Context, r fleet.Report, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("storing the fleet report of %s: %w", r.Instance, err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var inserted bool
		// xmax is 0 on a row this statement inserted, not on one it updated.
		err := tx.QueryRow(ctx, `INSERT INTO tokenomics_fleet (instance, last_contact, report) VALUES ($1, $2, $3)
			ON CONFLICT (instance) DO UPDATE SET last_contact = EXCLUDED.last_contact, report = EXCLUDED.report
			RETURNING (xmax = 0)`, r.Instance, at.UTC(), body).Scan(&inserted)
		if err != nil || !inserted {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM tokenomics_fleet WHERE instance IN (
			SELECT instance FROM tokenomics_fleet ORDER BY last_contact DESC, instance OFFSET $1)`, s.max)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing the fleet report of %s: %w", r.Instance, err)
	}
	return nil
}

// List implements central.FleetStore.
func (s *Store) List(ctx context.Context) ([]fleet.Proxy, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT last_contact, report FROM tokenomics_fleet`)
	if err != nil {
		return nil, fmt.Errorf("listing fleet reports: %w", err)
	}
	defer rows.Close()
	var out []fleet.Proxy
	for rows.Next() {
		var p fleet.Proxy
		var body []byte
		if err := rows.Scan(&p.LastContact, &body); err != nil {
			return nil, fmt.Errorf("listing fleet reports: %w", err)
		}
		// Stored by this code after Validate; a row that no longer decodes
		// (written by a newer build) is skipped, not fatal to the list.
		if err := json.Unmarshal(body, &p.Report); err != nil {
			continue
		}
		p.LastContact = p.LastContact.UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing fleet reports: %w", err)
	}
	return out, nil
}
