package console

// Bucket schema, inside the central database's file:
//
//	console_audit
//	└── uint64 BE sequence → auditEntry JSON
//
// The log only grows; it keeps the newest auditKeep entries.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

var bucketAudit = []byte("console_audit")

const auditKeep = 10000

// auditEntry is one change made in the console.
type auditEntry struct {
	Time     time.Time `json:"time"`
	Who      string    `json:"who"`
	Action   string    `json:"action"` // signin, token.create, token.update, token.revoke, plugin.upload, plugin.withdraw
	Target   string    `json:"target,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Revision uint64    `json:"revision,omitempty"`
}

// AuditStore keeps the audit log outside a bbolt file (PostgreSQL, shared
// by every replica). Entries are opaque JSON to it.
type AuditStore interface {
	// Append stores entry and drops all but the newest keep entries.
	Append(ctx context.Context, entry []byte, keep int) error
	// Recent returns up to n entries, newest first.
	Recent(ctx context.Context, n int) ([][]byte, error)
}

// auditLog keeps the entries in the central bbolt file, in an AuditStore,
// or in memory when given neither: then the console.audit events are the
// durable record.
type auditLog struct {
	db    *bbolt.DB
	store AuditStore

	mu  sync.Mutex
	mem []auditEntry // without db, oldest first, at most auditKeep
}

func openAudit(db *bbolt.DB, store AuditStore) (*auditLog, error) {
	if store != nil {
		return &auditLog{store: store}, nil
	}
	if db == nil {
		return &auditLog{}, nil
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketAudit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating the console audit bucket: %w", err)
	}
	return &auditLog{db: db}, nil
}

func (a *auditLog) append(e auditEntry) error {
	if a.store != nil {
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return a.store.Append(context.Background(), v, auditKeep)
	}
	if a.db == nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.mem) >= auditKeep {
			a.mem = append(a.mem[:0], a.mem[1:]...)
		}
		a.mem = append(a.mem, e)
		return nil
	}
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return a.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		if err := b.Put(k[:], v); err != nil {
			return err
		}
		if seq > auditKeep {
			binary.BigEndian.PutUint64(k[:], seq-auditKeep)
			return b.Delete(k[:])
		}
		return nil
	})
}

// recent returns up to n entries, newest first.
func (a *auditLog) recent(n int) ([]auditEntry, error) {
	var out []auditEntry
	if a.store != nil {
		raw, err := a.store.Recent(context.Background(), n)
		if err != nil {
			return nil, err
		}
		for _, v := range raw {
			var e auditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return nil, fmt.Errorf("decoding audit entry: %w", err)
			}
			out = append(out, e)
		}
		return out, nil
	}
	if a.db == nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		for i := len(a.mem) - 1; i >= 0 && len(out) < n; i-- {
			out = append(out, a.mem[i])
		}
		return out, nil
	}
	err := a.db.View(func(tx *bbolt.Tx) error {
		cur := tx.Bucket(bucketAudit).Cursor()
		for k, v := cur.Last(); k != nil && len(out) < n; k, v = cur.Prev() {
			var e auditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decoding audit entry: %w", err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// record appends to the audit log and emits console.audit. A failure to
// record is logged at ERROR: the change itself has happened.
func (c *Console) record(s *session, action, target, detail string, rev uint64) {
	e := auditEntry{Time: c.now().UTC(), Who: s.who, Action: action, Target: target, Detail: detail, Revision: rev}
	if err := c.audit.append(e); err != nil {
		c.log.Error("writing the console audit log", "action", action, "target", target, "error", err)
	}
	c.log.Info("console change", "who", e.Who, "action", action, "target", target, "revision", rev)
	if c.o.Emit == nil {
		return
	}
	ev, err := events.New(EventAudit, events.SourceCentral, rev, e)
	if err != nil {
		c.log.Error("building console.audit event", "error", err)
		return
	}
	c.o.Emit(ev)
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	entries, err := c.audit.recent(500)
	if err != nil {
		c.log.Error("reading the console audit log", "error", err)
		c.renderError(w, r, s, http.StatusInternalServerError, "The audit log cannot be read; see the server log.")
		return
	}
	c.render(w, r, s, http.StatusOK, "audit", page{Title: "Audit log", Nav: "audit", Data: entries})
}

// ReadAudit returns the audit entries kept in a central bbolt file, oldest
// first, as stored (JSON), for `tokenomics migrate`; none when the console
// never wrote there.
func ReadAudit(db *bbolt.DB) ([][]byte, error) {
	var out [][]byte
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			out = append(out, bytes.Clone(v))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading the console audit log: %w", err)
	}
	return out, nil
}
