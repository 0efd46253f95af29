package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Create stores a new record for policy (a JSON object) and returns the
// token, which exists nowhere else afterwards.
func (db *DB) Create(policy json.RawMessage, expiresAt *time.Time) (string, Record, error) {
	if !validPolicy(policy) {
		return "", Record{}, fmt.Errorf("creating token: %w", ErrInvalidPolicy)
	}
	token, err := NewToken()
	if err != nil {
		return "", Record{}, err
	}
	now := db.now().UTC()
	rec := Record{
		Hash:      db.hasher.Hash(token),
		Policy:    append(json.RawMessage(nil), policy...),
		CreatedAt: now,
		UpdatedAt: now,
		ExpiresAt: copyTime(expiresAt),
	}
	err = db.write(func(t *txn) error {
		if t.records.Get([]byte(rec.Hash)) != nil {
			// 256 random bits make this unreachable short of a broken RNG.
			return errors.New("store: token hash collision")
		}
		t.rev++
		rec.Revision = t.rev
		return t.putRecord(rec)
	})
	if err != nil {
		return "", Record{}, fmt.Errorf("creating token: %w", err)
	}
	return token, rec, nil
}

// CreateMany stores one new record per policy in a single transaction and
// returns the tokens in order: a bulk load commits (and syncs the file)
// once, not once per token. Every policy must be a JSON object; one that
// is not fails the whole batch, which then writes nothing.
func (db *DB) CreateMany(policies []json.RawMessage, expiresAt *time.Time) ([]string, error) {
	tokens := make([]string, len(policies))
	recs := make([]Record, len(policies))
	now := db.now().UTC()
	for i, p := range policies {
		if !validPolicy(p) {
			return nil, fmt.Errorf("creating token %d of %d: %w", i+1, len(policies), ErrInvalidPolicy)
		}
		token, err := NewToken()
		if err != nil {
			return nil, err
		}
		tokens[i] = token
		recs[i] = Record{Hash: db.hasher.Hash(token), Policy: append(json.RawMessage(nil), p...),
			CreatedAt: now, UpdatedAt: now, ExpiresAt: copyTime(expiresAt)}
	}
	err := db.write(func(t *txn) error {
		for i := range recs {
			if t.records.Get([]byte(recs[i].Hash)) != nil {
				return errors.New("store: token hash collision")
			}
			t.rev++
			recs[i].Revision = t.rev
			if err := t.putRecord(recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("creating %d tokens: %w", len(policies), err)
	}
	return tokens, nil
}

// Get returns the live record stored under hash.
func (db *DB) Get(hash string) (Record, error) {
	var rec Record
	err := db.read(func(v *view) error {
		var err error
		rec, err = v.get(hash)
		return err
	})
	return rec, err
}

func (v *view) get(hash string) (Record, error) {
	if v.records == nil {
		return Record{}, ErrNotFound
	}
	val := v.records.Get([]byte(hash))
	if val == nil {
		return Record{}, ErrNotFound
	}
	return v.record(hash, val)
}

// Lookup returns the record of token. An expired record is returned as
// is: callers check Record.Expired, so they can say "expired" rather than
// "unknown".
func (db *DB) Lookup(token string) (Record, error) {
	if !ValidTokenFormat(token) {
		return Record{}, ErrNotFound
	}
	var buf [HashLen]byte
	hash := db.hasher.AppendHash(buf[:0], []byte(token))
	var rec Record
	err := db.read(func(v *view) error {
		if v.records == nil {
			return ErrNotFound
		}
		val := v.records.Get(hash)
		if val == nil {
			return ErrNotFound
		}
		var err error
		rec, err = v.record(string(hash), val)
		return err
	})
	return rec, err
}

// Resolve returns the one live record whose hash starts with prefix (4 to
// 64 hex characters, any case). Several matches give *AmbiguousError, none
// gives ErrNotFound. Tokens are refused: they belong in Lookup, not in
// URLs and command lines.
func (db *DB) Resolve(prefix string) (Record, error) {
	p := strings.ToLower(prefix)
	if len(p) < 4 || len(p) > HashLen || !isLowerHex(p) {
		return Record{}, ErrInvalidPrefix
	}
	var rec Record
	err := db.read(func(v *view) error {
		if v.records == nil {
			return ErrNotFound
		}
		var matches []string
		c := v.records.Cursor()
		for k, _ := c.Seek([]byte(p)); k != nil && bytes.HasPrefix(k, []byte(p)); k, _ = c.Next() {
			matches = append(matches, string(k))
		}
		switch len(matches) {
		case 0:
			return ErrNotFound
		case 1:
			var err error
			rec, err = v.get(matches[0])
			return err
		}
		return &AmbiguousError{Prefix: p, Matches: matches}
	})
	return rec, err
}

// Each calls fn with every live record, in hash order, from one read
// transaction, without holding them all: a proxy loads ten thousand tokens
// with one record in hand at a time. Records of one policy share their
// Policy bytes, which fn must not modify (they stay valid after Each
// returns). fn must not write to the database: a write that has to grow
// the file waits for this read to end. An error from fn stops the walk and
// is returned, wrapped. The file pages the walk mapped are released after
// it (releasePages).
func (db *DB) Each(fn func(Record) error) error {
	var fnPanic any
	err := db.read(func(v *view) error {
		if v.records == nil {
			return nil
		}
		v.cache = map[policyKey]json.RawMessage{}
		c := v.records.Cursor()
		for k, val := c.First(); k != nil; k, val = c.Next() {
			rec, err := v.record(string(k), val)
			if errors.Is(err, ErrUnsealed) {
				db.skipUnsealed(k)
				continue
			}
			if err != nil {
				return err
			}
			if err := callEach(fn, rec, &fnPanic); err != nil {
				return err
			}
		}
		return nil
	})
	db.releasePages()
	if fnPanic != nil {
		// fn's own panic, not a damaged page: guard must not turn it
		// into a *CorruptError.
		panic(fnPanic)
	}
	if err != nil {
		return fmt.Errorf("reading tokens: %w", err)
	}
	return nil
}

// errEachPanicked stops Each's walk after fn panicked.
var errEachPanicked = errors.New("store: Each callback panicked")

func callEach(fn func(Record) error, rec Record, p *any) (err error) {
	defer func() {
		if v := recover(); v != nil {
			*p, err = v, errEachPanicked
		}
	}()
	return fn(rec)
}

// List returns every live record, oldest first. Records of one policy
// share their Policy bytes, which callers must not modify.
func (db *DB) List() ([]Record, error) {
	var out []Record
	err := db.Each(func(r Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
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
// new revision. fn may change Policy and ExpiresAt; Hash, CreatedAt,
// UpdatedAt and Revision are kept by the store. An error from fn aborts the
// update and is returned as is.
func (db *DB) Update(hash string, fn func(*Record) error) (Record, error) {
	var out Record
	err := db.write(func(t *txn) error {
		old, err := t.view().get(hash)
		if err != nil {
			return err
		}
		rec := old.clone()
		if err := fn(&rec); err != nil {
			return err
		}
		if !validPolicy(rec.Policy) {
			return ErrInvalidPolicy
		}
		t.rev++
		out = Record{
			Hash:      old.Hash,
			Policy:    append(json.RawMessage(nil), rec.Policy...),
			CreatedAt: old.CreatedAt,
			UpdatedAt: db.now().UTC(),
			ExpiresAt: copyTime(rec.ExpiresAt),
			Revision:  t.rev,
		}
		return t.putRecord(out)
	})
	if err != nil {
		return Record{}, err
	}
	return out, nil
}

// Delete removes hash's record, leaving a tombstone so proxies learn of
// it, and returns the record as it was.
func (db *DB) Delete(hash string) (Record, error) {
	var old Record
	err := db.write(func(t *txn) error {
		var err error
		if old, err = t.view().get(hash); err != nil {
			return err
		}
		t.rev++
		return t.putTombstone(hash, t.rev, db.now())
	})
	if err != nil {
		return Record{}, err
	}
	return old, nil
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.UTC()
	return &c
}
