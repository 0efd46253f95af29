package console

// Bucket schema, inside the central database's file:
//
//	console_sessions
//	└── hex SHA-256 of the session id → sessionRecord JSON with its expiry
//
// Expired entries are dropped when a new session is stored.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// SessionStore keeps console sessions outside the process, so a restarted
// central server keeps its operators signed in and every replica of a
// PostgreSQL central knows a session any of them created (a load balancer
// need not be sticky). Keys are the hex SHA-256 of the session id: what is
// stored cannot be used as a cookie.
type SessionStore interface {
	// LoadSession returns the value under key; ok is false when there is
	// none or it expired.
	LoadSession(ctx context.Context, key string) (value []byte, ok bool, err error)
	// SaveSession creates or replaces key's value until expires.
	SaveSession(ctx context.Context, key string, value []byte, expires time.Time) error
	// DeleteSession ends key's session.
	DeleteSession(ctx context.Context, key string) error
}

// sessionRecord is a session as a SessionStore keeps it.
type sessionRecord struct {
	CSRF    string    `json:"csrf"`
	Who     string    `json:"who"`
	Created time.Time `json:"created"`
	Last    time.Time `json:"last"`
	Flash   string    `json:"flash,omitempty"`
}

func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// storeTimeout bounds one session store call on a console request.
const storeTimeout = 5 * time.Second

// touchEvery is how stale a stored last-use time may get before a request
// writes it again: idle timeouts are minutes, so a write per page is waste.
const touchEvery = 30 * time.Second

func (ss *sessions) save(s *session) error {
	v, err := json.Marshal(sessionRecord{CSRF: s.csrf, Who: s.who, Created: s.created, Last: s.last, Flash: s.flash})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	expires := s.last.Add(ss.idle)
	if end := s.created.Add(ss.max); end.Before(expires) {
		expires = end
	}
	return ss.store.SaveSession(ctx, sessionKey(s.id), v, expires)
}

func (ss *sessions) load(id string) (*session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	v, ok, err := ss.store.LoadSession(ctx, sessionKey(id))
	if err != nil || !ok {
		return nil, err
	}
	var rec sessionRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decoding a console session: %w", err)
	}
	return &session{id: id, csrf: rec.CSRF, who: rec.Who, created: rec.Created, last: rec.Last, flash: rec.Flash}, nil
}

func (ss *sessions) delete(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	return ss.store.DeleteSession(ctx, sessionKey(id))
}

var bucketSessions = []byte("console_sessions")

// boltSessions is a SessionStore in the central bbolt file.
type boltSessions struct {
	db  *bbolt.DB
	now func() time.Time
}

// boltSession is one stored entry.
type boltSession struct {
	Expires time.Time       `json:"expires"`
	Value   json.RawMessage `json:"value"`
}

func openBoltSessions(db *bbolt.DB, now func() time.Time) (*boltSessions, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketSessions)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating the console session bucket: %w", err)
	}
	return &boltSessions{db: db, now: now}, nil
}

func (b *boltSessions) LoadSession(_ context.Context, key string) ([]byte, bool, error) {
	var out []byte
	err := b.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get([]byte(key))
		if v == nil {
			return nil
		}
		var e boltSession
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		if b.now().Before(e.Expires) {
			out = e.Value
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("reading a console session: %w", err)
	}
	return out, out != nil, nil
}

func (b *boltSessions) SaveSession(_ context.Context, key string, value []byte, expires time.Time) error {
	v, err := json.Marshal(boltSession{Expires: expires, Value: value})
	if err != nil {
		return err
	}
	err = b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketSessions)
		if bk.Get([]byte(key)) == nil {
			if err := b.prune(bk); err != nil {
				return err
			}
		}
		return bk.Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("storing a console session: %w", err)
	}
	return nil
}

// prune drops expired sessions; called when one is created, so the bucket
// holds about as many entries as there are live sessions.
func (b *boltSessions) prune(bk *bbolt.Bucket) error {
	now := b.now()
	var dead [][]byte
	err := bk.ForEach(func(k, v []byte) error {
		var e boltSession
		if json.Unmarshal(v, &e) != nil || !now.Before(e.Expires) {
			dead = append(dead, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := bk.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (b *boltSessions) DeleteSession(_ context.Context, key string) error {
	err := b.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketSessions).Delete([]byte(key)) })
	if err != nil {
		return fmt.Errorf("ending a console session: %w", err)
	}
	return nil
}
