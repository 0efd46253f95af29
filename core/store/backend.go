package store

import (
	"encoding/json"
	"time"
)

// Backend is what the central server needs from a token store: tokens by
// hash with their sealed policies, one revision sequence, tombstones and
// the change feed. *DB (bbolt, one process) and pgstore.Store (PostgreSQL,
// several replicas) implement it, and storetest.Run holds both to the same
// behaviour.
type Backend interface {
	// Create stores a new record for policy and returns the token.
	Create(policy json.RawMessage, expiresAt *time.Time) (string, Record, error)
	// Get returns the live record stored under hash, or ErrNotFound.
	Get(hash string) (Record, error)
	// Lookup returns the record of token, or ErrNotFound.
	Lookup(token string) (Record, error)
	// Resolve returns the one live record whose hash starts with prefix.
	Resolve(prefix string) (Record, error)
	// List returns every live record, oldest first.
	List() ([]Record, error)
	// Update stores fn's changes to hash's record at a new revision.
	Update(hash string, fn func(*Record) error) (Record, error)
	// Delete removes hash's record and leaves a tombstone.
	Delete(hash string) (Record, error)
	// Changes returns what changed after since, and the current revision.
	Changes(since uint64) ([]Change, uint64, error)
	// Revision returns the revision of the latest committed change.
	Revision() uint64
	// SubscribeBatch calls fn with the changes of each committed write,
	// in revision order (for PostgreSQL: every replica's writes, shortly
	// after commit; a subscriber that fell behind gets only each hash's
	// latest change, as a since= pull does).
	SubscribeBatch(fn func([]Change)) (cancel func())
	// Check is a cheap readiness probe of the storage.
	Check() error
	// Close releases the storage.
	Close() error
}

var _ Backend = (*DB)(nil)
