package store

import (
	"errors"
	"fmt"
	"runtime/debug"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// CorruptError reports a database file bbolt cannot read: its meta pages
// fail their checksums, or a page it points to is garbage or past the end
// of a truncated file. errors.Is(err, ErrCorrupt) is true. Its message is
// one line naming the file; callers add what to do.
type CorruptError struct {
	Path   string
	Detail string // what bbolt tripped on, without a stack
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("store: database %q is damaged (%s)", e.Path, e.Detail)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// guard runs fn and turns what bbolt does on a damaged file into a
// *CorruptError: bbolt panics on pages it cannot make sense of ("invalid
// freelist page", "invalid page type"), and a page past the end of a
// truncated file is a memory fault, which SetPanicOnFault makes a panic on
// this goroutine. bbolt's own transactions roll back on a panic, so the
// handle stays usable for the caller to close.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			err = &CorruptError{Path: path, Detail: firstLine(fmt.Sprint(v))}
		}
	}()
	return fn()
}

// corruptOpenError turns bbolt.Open's errors about unreadable meta pages
// into a *CorruptError; other errors are returned as they are.
func corruptOpenError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch):
		return &CorruptError{Path: path, Detail: err.Error()}
	}
	return err
}

// verify reads every key and value of every bucket, so that a damaged page
// is found at open, in one place, instead of as a panic in the middle of a
// request. It costs one pass over the file.
func verify(tx *bbolt.Tx) error {
	return tx.ForEach(func(_ []byte, b *bbolt.Bucket) error {
		return verifyBucket(b)
	})
}

func verifyBucket(b *bbolt.Bucket) error {
	c := b.Cursor()
	var sum byte
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				if err := verifyBucket(nb); err != nil {
					return err
				}
			}
			continue
		}
		// Touch the value's bytes: a page past the end of the file faults
		// here rather than later.
		if len(v) > 0 {
			sum ^= v[0] ^ v[len(v)-1]
		}
	}
	_ = sum
	return nil
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
