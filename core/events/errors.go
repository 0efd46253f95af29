package events

import "errors"

// Verification errors. Receivers branch on them with errors.Is to choose a
// status code (see the package doc).
var (
	ErrMissingHeader = errors.New("events: missing header")
	ErrMalformed     = errors.New("events: malformed request")
	ErrBadSignature  = errors.New("events: bad signature")
	ErrBadSecret     = errors.New("events: bad secret")
	ErrStale         = errors.New("events: timestamp outside the allowed skew")
	ErrReplay        = errors.New("events: replayed event id")
)

// Configuration and lifecycle errors.
var (
	ErrNoCredentials = errors.New("events: receiver needs a secret or a signing key")
	ErrBadPattern    = errors.New("events: bad event filter pattern")
	ErrBadConfig     = errors.New("events: bad configuration")
	ErrNotDurable    = errors.New("events: dispatcher has no database")
	ErrForeignTx     = errors.New("events: transaction is not a write transaction on the dispatcher's database")
	ErrClosed        = errors.New("events: dispatcher closed")
)
