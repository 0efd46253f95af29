package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

var (
	// ErrSchemaTooNew means a newer build migrated the database.
	ErrSchemaTooNew = errors.New("pgstore: the database schema is newer than this build")
	// ErrNoDSN means Options.DSN is empty.
	ErrNoDSN = errors.New("pgstore: no PostgreSQL DSN (storage.postgres.dsn)")
)

// Notification channels.
const (
	chanTokens  = "tokenomics_changes"
	chanPlugins = "tokenomics_plugins"
)

// DefaultQueryTimeout bounds a single store call.
const DefaultQueryTimeout = 10 * time.Second

// Options configures Open.
type Options struct {
	// DSN is a libpq connection string or URL.
	DSN string
	// HashKey, EncryptionKey and EncryptionPassphrase mean what they do in
	// store.Options; they are checked against the database on open.
	HashKey              []byte
	EncryptionKey        []byte
	EncryptionPassphrase []byte
	// QueryTimeout bounds each call; default DefaultQueryTimeout.
	QueryTimeout time.Duration
	// Logger receives the listener's warnings; nil discards them.
	Logger hclog.Logger
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Store is a central store in PostgreSQL. It is safe for concurrent use,
// and several processes may open the same database.
type Store struct {
	pool    *pgxpool.Pool
	sealer  *store.Sealer
	log     hclog.Logger
	now     func() time.Time
	timeout time.Duration

	revision atomic.Uint64 // newest revision seen (own writes, notices, reads)

	subsMu     sync.Mutex
	subs       map[uint64]func([]store.Change)
	pluginSubs map[uint64]func(uint64)
	nextSub    uint64

	listenCancel context.CancelFunc
	listenDone   chan struct{}
}

// Open connects, migrates the schema, checks the keys and starts
// listening for the other replicas' changes.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.DSN == "" {
		return nil, ErrNoDSN
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, errors.New("pgstore: the PostgreSQL DSN does not parse")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	s := &Store{pool: pool, log: o.Logger.Named("pgstore"), now: o.Now, timeout: o.QueryTimeout,
		subs: map[uint64]func([]store.Change){}, pluginSubs: map[uint64]func(uint64){}}
	if err := s.init(ctx, o); err != nil {
		pool.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.listenCancel, s.listenDone = cancel, make(chan struct{})
	ready := make(chan struct{})
	go s.listen(lctx, ready)
	select {
	case <-ready:
	case <-time.After(o.QueryTimeout):
		s.log.Warn("the change listener is not connected yet; other replicas' changes reach subscribers once it is")
	}
	return s, nil
}

func (s *Store) init(ctx context.Context, o Options) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Release()
	if err := migrate(ctx, conn.Conn()); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error {
		// Replicas starting together must agree on the first key check.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		meta, err := loadMeta(ctx, tx)
		if err != nil {
			return err
		}
		s.sealer, err = store.NewSealer(meta, o.HashKey, o.EncryptionKey, o.EncryptionPassphrase)
		if err != nil {
			return fmt.Errorf("opening the PostgreSQL store: %w", err)
		}
		if err := meta.flush(ctx, tx); err != nil {
			return err
		}
		var rev uint64
		if err := tx.QueryRow(ctx, `SELECT revision FROM tokenomics_state WHERE id = 1`).Scan(&rev); err != nil {
			return fmt.Errorf("reading the revision: %w", err)
		}
		s.revision.Store(rev)
		return nil
	})
}

// metaKV is tokenomics_meta loaded into a transaction, for store.NewSealer.
type metaKV struct {
	m     map[string][]byte
	dirty map[string]bool
}

func loadMeta(ctx context.Context, tx pgx.Tx) (*metaKV, error) {
	rows, err := tx.Query(ctx, `SELECT key, value FROM tokenomics_meta`)
	if err != nil {
		return nil, fmt.Errorf("reading the key checks: %w", err)
	}
	m := &metaKV{m: map[string][]byte{}, dirty: map[string]bool{}}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m.m[k] = v
	}
	return m, rows.Err()
}

func (m *metaKV) Get(k []byte) []byte { return m.m[string(k)] }
func (m *metaKV) Put(k, v []byte) error {
	m.m[string(k)], m.dirty[string(k)] = v, true
	return nil
}
func (m *metaKV) Delete(k []byte) error {
	delete(m.m, string(k))
	m.dirty[string(k)] = true
	return nil
}

func (m *metaKV) flush(ctx context.Context, tx pgx.Tx) error {
	for k := range m.dirty {
		var err error
		if v, ok := m.m[k]; ok {
			_, err = tx.Exec(ctx, `INSERT INTO tokenomics_meta (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v)
		} else {
			_, err = tx.Exec(ctx, `DELETE FROM tokenomics_meta WHERE key = $1`, k)
		}
		if err != nil {
			return fmt.Errorf("recording key check %s: %w", k, err)
		}
	}
	return nil
}

// Close stops the listener and closes the pool.
func (s *Store) Close() error {
	if s.listenCancel != nil {
		s.listenCancel()
		<-s.listenDone
	}
	s.pool.Close()
	return nil
}

// Pool is the connection pool, for other tables of the same deployment.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Hasher returns the token hasher.
func (s *Store) Hasher() *store.Hasher { return s.sealer.Hasher() }

// Encrypted reports whether policies are sealed.
func (s *Store) Encrypted() bool { return s.sealer.Encrypted() }

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// write runs fn in a transaction holding the state row, so writers of
// every replica are serialized; fn returns the revision the store is at
// afterwards (unchanged when it changed nothing).
func (s *Store) write(fn func(ctx context.Context, tx pgx.Tx, rev uint64) (uint64, error)) error {
	ctx, cancel := s.ctx()
	defer cancel()
	var next uint64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var rev uint64
		if err := tx.QueryRow(ctx, `SELECT revision FROM tokenomics_state WHERE id = 1 FOR UPDATE`).Scan(&rev); err != nil {
			return fmt.Errorf("locking the revision: %w", err)
		}
		var err error
		if next, err = fn(ctx, tx, rev); err != nil {
			return err
		}
		if next == rev {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE tokenomics_state SET revision = $1 WHERE id = 1`, next); err != nil {
			return fmt.Errorf("writing the revision: %w", err)
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, chanTokens, strconv.FormatUint(next, 10))
		return err
	})
	if err != nil {
		return err
	}
	s.seen(next)
	return nil
}

func (s *Store) seen(rev uint64) {
	for {
		cur := s.revision.Load()
		if rev <= cur || s.revision.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// put writes rec (at rec.Revision), replacing any record or tombstone of
// its hash.
func (s *Store) put(ctx context.Context, tx pgx.Tx, rec store.Record) error {
	v, err := s.sealer.Encode(rec)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO tokenomics_tokens (hash, revision, value, deleted_at) VALUES ($1, $2, $3, NULL)
		ON CONFLICT (hash) DO UPDATE SET revision = excluded.revision, value = excluded.value, deleted_at = NULL`,
		rec.Hash, int64(rec.Revision), v)
	if err != nil {
		return fmt.Errorf("writing record %s: %w", store.Short(rec.Hash), err)
	}
	return nil
}

// getLive reads hash's live record inside tx.
func (s *Store) getLive(ctx context.Context, q pgx.Tx, hash string) (store.Record, error) {
	var v []byte
	err := q.QueryRow(ctx, `SELECT value FROM tokenomics_tokens WHERE hash = $1 AND value IS NOT NULL`, hash).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, store.ErrNotFound
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("reading record %s: %w", store.Short(hash), err)
	}
	return s.sealer.Decode(hash, v)
}

// Create stores a new record for policy and returns the token.
func (s *Store) Create(policy json.RawMessage, expiresAt *time.Time) (string, store.Record, error) {
	if !store.ValidPolicy(policy) {
		return "", store.Record{}, fmt.Errorf("creating token: %w", store.ErrInvalidPolicy)
	}
	token, err := store.NewToken()
	if err != nil {
		return "", store.Record{}, err
	}
	now := s.now().UTC()
	rec := store.Record{Hash: s.sealer.Hasher().Hash(token), Policy: append(json.RawMessage(nil), policy...),
		CreatedAt: now, UpdatedAt: now, ExpiresAt: copyTime(expiresAt)}
	err = s.write(func(ctx context.Context, tx pgx.Tx, rev uint64) (uint64, error) {
		if _, err := s.getLive(ctx, tx, rec.Hash); err == nil {
			return rev, errors.New("pgstore: token hash collision")
		}
		rec.Revision = rev + 1
		return rec.Revision, s.put(ctx, tx, rec)
	})
	if err != nil {
		return "", store.Record{}, fmt.Errorf("creating token: %w", err)
	}
	return token, rec, nil
}

// Get returns the live record stored under hash.
func (s *Store) Get(hash string) (store.Record, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM tokenomics_tokens WHERE hash = $1 AND value IS NOT NULL`, hash).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, store.ErrNotFound
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("reading record %s: %w", store.Short(hash), err)
	}
	return s.sealer.Decode(hash, v)
}

// Lookup returns the record of token.
func (s *Store) Lookup(token string) (store.Record, error) {
	if !store.ValidTokenFormat(token) {
		return store.Record{}, store.ErrNotFound
	}
	return s.Get(s.sealer.Hasher().Hash(token))
}

// Resolve returns the one live record whose hash starts with prefix.
func (s *Store) Resolve(prefix string) (store.Record, error) {
	p := strings.ToLower(prefix)
	if len(p) < 4 || len(p) > store.HashLen || !store.IsLowerHex(p) {
		return store.Record{}, store.ErrInvalidPrefix
	}
	ctx, cancel := s.ctx()
	defer cancel()
	// p is hex only, so it holds no LIKE wildcard.
	rows, err := s.pool.Query(ctx, `SELECT hash, value FROM tokenomics_tokens
		WHERE hash LIKE $1 AND value IS NOT NULL ORDER BY hash`, p+"%")
	if err != nil {
		return store.Record{}, fmt.Errorf("resolving prefix: %w", err)
	}
	var hashes []string
	var first []byte
	for rows.Next() {
		var h string
		var v []byte
		if err := rows.Scan(&h, &v); err != nil {
			return store.Record{}, err
		}
		if first == nil {
			first = v
		}
		hashes = append(hashes, h)
	}
	if err := rows.Err(); err != nil {
		return store.Record{}, fmt.Errorf("resolving prefix: %w", err)
	}
	switch len(hashes) {
	case 0:
		return store.Record{}, store.ErrNotFound
	case 1:
		return s.sealer.Decode(hashes[0], first)
	}
	return store.Record{}, &store.AmbiguousError{Prefix: p, Matches: hashes}
}

// List returns every live record, oldest first.
func (s *Store) List() ([]store.Record, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT hash, value FROM tokenomics_tokens WHERE value IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	var out []store.Record
	for rows.Next() {
		var h string
		var v []byte
		if err := rows.Scan(&h, &v); err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		rec, err := s.sealer.Decode(h, v)
		if errors.Is(err, store.ErrUnsealed) {
			s.log.Error("refusing a record stored in the clear in an encrypted store", "token_hash", store.Short(h))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].Hash < out[j].Hash
	})
	return out, nil
}

// Update applies fn to a copy of hash's record and stores the result at a
// new revision, as store.DB.Update does.
func (s *Store) Update(hash string, fn func(*store.Record) error) (store.Record, error) {
	var out store.Record
	err := s.write(func(ctx context.Context, tx pgx.Tx, rev uint64) (uint64, error) {
		old, err := s.getLive(ctx, tx, hash)
		if err != nil {
			return rev, err
		}
		rec := old.Clone()
		if err := fn(&rec); err != nil {
			return rev, err
		}
		if !store.ValidPolicy(rec.Policy) {
			return rev, store.ErrInvalidPolicy
		}
		out = store.Record{Hash: old.Hash, Policy: append(json.RawMessage(nil), rec.Policy...), CreatedAt: old.CreatedAt,
			UpdatedAt: s.now().UTC(), ExpiresAt: copyTime(rec.ExpiresAt), Revision: rev + 1}
		return out.Revision, s.put(ctx, tx, out)
	})
	if err != nil {
		return store.Record{}, err
	}
	return out, nil
}

// Delete removes hash's record, leaving a tombstone.
func (s *Store) Delete(hash string) (store.Record, error) {
	var old store.Record
	err := s.write(func(ctx context.Context, tx pgx.Tx, rev uint64) (uint64, error) {
		var err error
		if old, err = s.getLive(ctx, tx, hash); err != nil {
			return rev, err
		}
		_, err = tx.Exec(ctx, `UPDATE tokenomics_tokens SET revision = $2, value = NULL, deleted_at = $3 WHERE hash = $1`,
			hash, int64(rev+1), s.now())
		if err != nil {
			return rev, fmt.Errorf("writing tombstone %s: %w", store.Short(hash), err)
		}
		return rev + 1, nil
	})
	if err != nil {
		return store.Record{}, err
	}
	return old, nil
}

// Changes returns what changed after since, in revision order, and the
// current revision, from one snapshot.
func (s *Store) Changes(since uint64) ([]store.Change, uint64, error) {
	return s.changes(since, since > 0)
}

// changes is Changes, with tombstones or not: a subscriber catching up
// from revision 0 needs them, a full fetch does not.
func (s *Store) changes(since uint64, tombstones bool) ([]store.Change, uint64, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	out := []store.Change{}
	var current uint64
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var pruned uint64
		if err := tx.QueryRow(ctx, `SELECT revision, pruned FROM tokenomics_state WHERE id = 1`).Scan(&current, &pruned); err != nil {
			return err
		}
		if since > current || (since > 0 && since < pruned) {
			return store.ErrResyncRequired
		}
		q := `SELECT hash, revision, value FROM tokenomics_tokens WHERE revision > $1 ORDER BY revision`
		if !tombstones {
			q = `SELECT hash, revision, value FROM tokenomics_tokens WHERE revision > $1 AND value IS NOT NULL ORDER BY revision`
		}
		rows, err := tx.Query(ctx, q, int64(since))
		if err != nil {
			return err
		}
		for rows.Next() {
			var h string
			var rev int64
			var v []byte
			if err := rows.Scan(&h, &rev, &v); err != nil {
				return err
			}
			if v == nil {
				out = append(out, store.Change{Revision: uint64(rev), Hash: h, Deleted: true})
				continue
			}
			rec, err := s.sealer.Decode(h, v)
			if errors.Is(err, store.ErrUnsealed) {
				s.log.Error("refusing a record stored in the clear in an encrypted store", "token_hash", store.Short(h))
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, store.Change{Revision: uint64(rev), Hash: h, Record: &rec})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, current, fmt.Errorf("reading changes since %d: %w", since, err)
	}
	s.seen(current)
	return out, current, nil
}

// Revision returns the current revision, read from the database (the
// newest one seen when it cannot be reached).
func (s *Store) Revision() uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var rev uint64
	if err := s.pool.QueryRow(ctx, `SELECT revision FROM tokenomics_state WHERE id = 1`).Scan(&rev); err != nil {
		return s.revision.Load()
	}
	s.seen(rev)
	return rev
}

// Check reads the state row.
func (s *Store) Check() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var rev uint64
	if err := s.pool.QueryRow(ctx, `SELECT revision FROM tokenomics_state WHERE id = 1`).Scan(&rev); err != nil {
		return fmt.Errorf("reading the PostgreSQL store: %w", err)
	}
	return nil
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.UTC()
	return &c
}

var (
	_ store.Backend     = (*Store)(nil)
	_ store.PluginStore = (*Store)(nil)
)

// ErrNotEmpty means Import was asked to fill a store that holds tokens.
var ErrNotEmpty = errors.New("pgstore: the PostgreSQL store already holds tokens")

// Import fills an empty store with ex (a bbolt store's Export), keeping
// every revision and tombstone, so proxies that pulled from the old
// store continue with since= pulls. It is one transaction.
func (s *Store) Import(ex store.Export) error {
	if err := store.CheckChanges(ex.Changes, ex.Revision); err != nil {
		return fmt.Errorf("importing: %w", err)
	}
	return s.write(func(ctx context.Context, tx pgx.Tx, rev uint64) (uint64, error) {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM tokenomics_tokens`).Scan(&n); err != nil {
			return rev, err
		}
		if rev != 0 || n != 0 {
			return rev, fmt.Errorf("%w (revision %d, %d rows)", ErrNotEmpty, rev, n)
		}
		now := s.now()
		for _, c := range ex.Changes {
			if c.Deleted {
				if _, err := tx.Exec(ctx, `INSERT INTO tokenomics_tokens (hash, revision, value, deleted_at) VALUES ($1, $2, NULL, $3)`,
					c.Hash, int64(c.Revision), now); err != nil {
					return rev, fmt.Errorf("importing tombstone %s: %w", store.Short(c.Hash), err)
				}
				continue
			}
			rec := c.Record.Clone()
			rec.Hash, rec.Revision = c.Hash, c.Revision
			if err := s.put(ctx, tx, rec); err != nil {
				return rev, err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE tokenomics_state SET pruned = $1 WHERE id = 1`, int64(ex.Pruned)); err != nil {
			return rev, err
		}
		return ex.Revision, nil
	})
}
