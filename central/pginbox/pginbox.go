package pginbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/core/events"
)

// appendLock is the advisory lock appends take ("tknevts" in ASCII), so
// sequence numbers commit in order and a reader paging with After never
// skips an event committed late by another replica.
const appendLock int64 = 0x746b6e6576747300

// pageSize is how many events List reads per query while filtering.
const pageSize = 1000

// Store is a central.EventStore in table tokenomics_event_inbox, created
// by pgstore's schema migrations.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
}

// New uses pool (pgstore.Store.Pool); timeout bounds each call.
func New(pool *pgxpool.Pool, timeout time.Duration) *Store {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &Store{pool: pool, timeout: timeout}
}

var _ central.EventStore = (*Store)(nil)

// Append implements central.EventStore. An event whose id is stored
// already (a delivery retried against another replica) is not stored
// again; its first sequence number is returned.
func (s *Store) Append(ctx context.Context, e events.Event, received time.Time) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	body, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("storing event %s: %w", e.ID, err)
	}
	var seq int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, appendLock); err != nil {
			return err
		}
		var id *string
		if e.ID != "" {
			id = &e.ID
		}
		err := tx.QueryRow(ctx, `INSERT INTO tokenomics_event_inbox (event_id, received, type, body) VALUES ($1, $2, $3, $4)
			ON CONFLICT (event_id) DO NOTHING RETURNING seq`, id, received.UTC(), e.Type, body).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			// Stored before, through this or another replica: keep the first.
			return tx.QueryRow(ctx, `SELECT seq FROM tokenomics_event_inbox WHERE event_id = $1`, id).Scan(&seq)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storing event %s: %w", e.ID, err)
	}
	return uint64(seq), nil
}

// List implements central.EventStore. Type patterns are matched here, as
// the bbolt store does, so pages are read until the limit is met.
func (s *Store) List(ctx context.Context, q central.EventQuery) ([]central.StoredEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var out []central.StoredEvent
	after := int64(q.After)
	if q.After > 1<<62 {
		return nil, nil
	}
	since := q.Since
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	for {
		rows, err := s.pool.Query(ctx, `SELECT seq, received, body FROM tokenomics_event_inbox
			WHERE seq > $1 AND received >= $2 ORDER BY seq LIMIT $3`, after, since.UTC(), pageSize)
		if err != nil {
			return nil, fmt.Errorf("reading events: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
			var seq int64
			var se central.StoredEvent
			var body []byte
			if err := rows.Scan(&seq, &se.Received, &body); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading events: %w", err)
			}
			after = seq
			if err := json.Unmarshal(body, &se.Event); err != nil {
				rows.Close()
				return nil, fmt.Errorf("decoding stored event: %w", err)
			}
			if !events.Match(q.Types, se.Event.Type) {
				continue
			}
			se.Seq, se.Received = uint64(seq), se.Received.UTC()
			out = append(out, se)
			if q.Limit > 0 && len(out) >= q.Limit {
				rows.Close()
				return out, nil
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading events: %w", err)
		}
		if n < pageSize {
			return out, nil
		}
	}
}

// Prune implements central.EventStore.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM tokenomics_event_inbox WHERE received < $1`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("pruning events: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
