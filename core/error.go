package core

import (
	"fmt"
	"time"
)

// Error is a refusal that reaches the client in the OpenAI error shape
// {"error":{"message","type","code"}} with Status as the HTTP status, so the
// official SDKs raise their usual exception for it.
type Error struct {
	Status     int
	Type       string // e.g. invalid_request_error, authentication_error, rate_limit_error
	Code       string // machine-readable reason, e.g. budget_exceeded
	Message    string
	Param      string        // optional request field at fault
	RetryAfter time.Duration // sets Retry-After when > 0
	Err        error         // cause, for logs; never shown to the client
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// AppendJSON appends the OpenAI-shaped body of e to dst.
func (e *Error) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"error":{"message":`...)
	dst = AppendJSONString(dst, e.Message)
	dst = append(dst, `,"type":`...)
	dst = AppendJSONString(dst, e.Type)
	if e.Param != "" {
		dst = append(dst, `,"param":`...)
		dst = AppendJSONString(dst, e.Param)
	} else {
		dst = append(dst, `,"param":null`...)
	}
	dst = append(dst, `,"code":`...)
	dst = AppendJSONString(dst, e.Code)
	return append(dst, "}}"...)
}

// Errorf builds an Error; the message is formatted with args.
func Errorf(status int, typ, code, format string, args ...any) *Error {
	return &Error{Status: status, Type: typ, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error types used by OpenAI's API and understood by its SDKs.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAuthentication = "authentication_error"
	TypePermission     = "permission_error"
	TypeNotFound       = "not_found_error"
	TypeRateLimit      = "rate_limit_error"
	TypeServer         = "server_error"
	TypeUpstream       = "upstream_error"
)
