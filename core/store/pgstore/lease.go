package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Leases are named locks one process holds at a time, as PostgreSQL
// session advisory locks on one dedicated connection: when the process
// dies (kill -9 included) its connection closes and PostgreSQL frees every
// lease it held, so another replica takes them at its next TryLock. The
// central replicas use them so each push target has one pusher.
type Leases struct {
	s    *Store
	mu   sync.Mutex
	conn *pgx.Conn
	held map[string]bool
}

// Leases returns a lease holder on its own connection (opened lazily).
func (s *Store) Leases() *Leases { return &Leases{s: s, held: map[string]bool{}} }

// leaseKey maps a name to the advisory lock's 64-bit key.
func leaseKey(name string) int64 {
	sum := sha256.Sum256([]byte("tokenomics/lease/" + name))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

func (l *Leases) connect(ctx context.Context) error {
	if l.conn != nil && !l.conn.IsClosed() {
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, l.s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connecting the lease session: %w", err)
	}
	l.conn, l.held = conn, map[string]bool{}
	return nil
}

// TryLock reports whether this process holds the lease name, taking it
// when it is free. It never waits for another holder.
func (l *Leases) TryLock(ctx context.Context, name string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.connect(ctx); err != nil {
		return false, err
	}
	if l.held[name] {
		return true, nil
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, leaseKey(name)).Scan(&ok); err != nil {
		l.drop()
		return false, fmt.Errorf("taking lease %s: %w", name, err)
	}
	if ok {
		l.held[name] = true
	}
	return ok, nil
}

// Release gives up the lease name.
func (l *Leases) Release(ctx context.Context, name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held[name] || l.conn == nil {
		return nil
	}
	delete(l.held, name)
	_, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, leaseKey(name))
	return err
}

// ErrLeasesLost means the lease session ended: every lease is gone, and
// another replica may hold them now.
var ErrLeasesLost = errors.New("pgstore: the lease session was lost")

// Check pings the session. An error means every lease was lost.
func (l *Leases) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	if err := l.conn.Ping(ctx); err != nil {
		l.drop()
		return fmt.Errorf("%w: %w", ErrLeasesLost, err)
	}
	return nil
}

func (l *Leases) drop() {
	if l.conn != nil {
		_ = l.conn.Close(context.Background())
	}
	l.conn, l.held = nil, map[string]bool{}
}

// Close frees every lease.
func (l *Leases) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.drop()
}
