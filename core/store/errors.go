package store

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotFound means no live record has that hash, token or prefix.
	ErrNotFound = errors.New("store: token not found")
	// ErrAmbiguous means a prefix matches several records; see AmbiguousError.
	ErrAmbiguous = errors.New("store: prefix matches more than one token")
	// ErrLocked means another process holds the database; see LockedError.
	ErrLocked = errors.New("store: database is in use by another process")
	// ErrHashKeyMismatch means the database was created with another hash key.
	ErrHashKeyMismatch = errors.New("store: hash key differs from the one this database was created with, so no stored token would match")
	// ErrDecrypt means a policy could not be decrypted: no key, or the wrong key,
	// or a record that was tampered with.
	ErrDecrypt = errors.New("store: cannot decrypt")
	// ErrUnsealed means a record of an encrypted database is stored in the
	// clear: written by something other than this store (a tampered or
	// hand-edited file). It is refused, never served.
	ErrUnsealed = errors.New("store: record is not sealed although the database is encrypted")
	// ErrStaleRevision means Apply was given a revision older than the database's.
	ErrStaleRevision = errors.New("store: revision is older than the database's")
	// ErrResyncRequired means the changes since the asked revision are no longer
	// all known (tombstones were pruned, or the client is ahead of this
	// database): fetch everything again with since=0.
	ErrResyncRequired = errors.New("store: changes since that revision are no longer available; a full fetch (since=0) is required")
	// ErrInvalidPrefix means a prefix is not 4 to 64 hex characters.
	ErrInvalidPrefix = errors.New("store: a token prefix must be 4 to 64 hex characters of the token hash")
	// ErrInvalidPolicy means a policy is not a JSON object.
	ErrInvalidPolicy = errors.New("store: policy must be a JSON object")
	// ErrInvalidKey means a hash or encryption key has the wrong length.
	ErrInvalidKey = errors.New("store: invalid key")
	// ErrInvalidChange means Apply or Replace got a malformed change.
	ErrInvalidChange = errors.New("store: invalid change")
	// ErrCorrupt means a stored value has an unknown format.
	ErrCorrupt = errors.New("store: corrupt value")
)

// LockedError reports that another process holds the database file's lock.
// errors.Is(err, ErrLocked) is true.
type LockedError struct {
	Path string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("store: database %q is in use by another process", e.Path)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// AmbiguousError reports every hash a prefix matched.
// errors.Is(err, ErrAmbiguous) is true.
type AmbiguousError struct {
	Prefix  string
	Matches []string // full hashes, in key order
}

// maxListedMatches bounds the message; Matches keeps them all.
const maxListedMatches = 10

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store: prefix %q matches %d tokens:", e.Prefix, len(e.Matches))
	// Show each match a little longer than the prefix, enough to pick one.
	n := min(len(e.Prefix)+8, HashLen)
	for i, m := range e.Matches {
		if i == maxListedMatches {
			fmt.Fprintf(&b, " and %d more", len(e.Matches)-i)
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(m[:min(n, len(m))])
	}
	return b.String()
}

// Is makes errors.Is(err, ErrAmbiguous) true.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }
