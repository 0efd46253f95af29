package tokenapi

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidRequest marks errors the caller can fix: bad JSON, a policy
	// the validator refused, contradictory fields.
	ErrInvalidRequest = errors.New("tokenapi: invalid request")
	// ErrUnauthorized means the server refused the API key.
	ErrUnauthorized = errors.New("tokenapi: unauthorized (wrong or missing API key)")
	// ErrTooLarge means the request body exceeded MaxBodyBytes.
	ErrTooLarge = errors.New("tokenapi: request body too large")
	// ErrUnreachable marks network failures; see UnreachableError.
	ErrUnreachable = errors.New("tokenapi: server unreachable")
	// ErrNoServer means no live local admin endpoint was found for a database.
	ErrNoServer = errors.New("tokenapi: no running server for this database")
	// ErrInsecureDiscovery means a discovery file could leak its secret or
	// could have been planted by someone else.
	ErrInsecureDiscovery = errors.New("tokenapi: insecure discovery file")
	// ErrNotLoopback means an admin address is not on the loopback interface.
	ErrNotLoopback = errors.New("tokenapi: admin address must be loopback")
)

// invalidError marks a caller mistake so it maps to 400 and errors.Is(err,
// ErrInvalidRequest) holds. The message is the cause alone: that is what
// the user needs to read.
type invalidError struct{ err error }

func (e *invalidError) Error() string        { return e.err.Error() }
func (e *invalidError) Unwrap() error        { return e.err }
func (e *invalidError) Is(target error) bool { return target == ErrInvalidRequest }

func invalidf(format string, args ...any) error {
	return &invalidError{err: fmt.Errorf(format, args...)}
}

// APIError is an error response from the server. It unwraps to the error
// its code stands for (store.ErrNotFound, *store.AmbiguousError,
// ErrInvalidRequest, ...), so callers branch with errors.Is and errors.As.
type APIError struct {
	Status  int
	Type    string
	Code    string
	Message string // the server's message, e.g. the validator's text
	err     error
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("tokenapi: server answered %d %s", e.Status, e.Code)
	}
	return e.Message
}

func (e *APIError) Unwrap() error { return e.err }

// UnreachableError reports a request that got no HTTP answer.
type UnreachableError struct {
	Name string // "central server", "local server"
	URL  string // base URL, credentials redacted
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s %s unreachable: %v", e.Name, e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error        { return e.Err }
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }
