package limits

import (
	"errors"
	"strconv"
	"time"
)

// Sentinels for errors.Is. A refusal is always a *LimitError; these tell its kind.
var (
	ErrBudgetExceeded  = errors.New("limits: budget exceeded")
	ErrRateLimited     = errors.New("limits: rate limited")
	ErrTooManyParallel = errors.New("limits: too many parallel requests")
	ErrUnavailable     = errors.New("limits: counter store unavailable")

	// ErrInvalidRequest is returned for a malformed Request (a programming or
	// configuration error, not a refusal).
	ErrInvalidRequest = errors.New("limits: invalid request")
	// ErrLeaseExpired is returned by KeepAlive for a lease that already expired
	// or was settled.
	ErrLeaseExpired = errors.New("limits: lease expired or settled")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("limits: limiter closed")
	// ErrCorrupt is returned by a Persister that cannot decode what it stored.
	ErrCorrupt = errors.New("limits: corrupt persisted counters")
)

// Kind says which limit refused a request.
type Kind uint8

// Kinds of refusal.
const (
	KindBudget      Kind = iota + 1 // a max_tokens budget cannot hold the reservation
	KindRate                        // a requests or tokens window is full
	KindParallel                    // max_parallel leases are in flight
	KindUnavailable                 // Redis unreachable and fail_mode closed
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	switch k {
	case KindBudget:
		return "budget"
	case KindRate:
		return "rate"
	case KindParallel:
		return "parallel"
	case KindUnavailable:
		return "unavailable"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// LimitError is a refusal with everything an HTTP answer needs: 429 (or 503
// for KindUnavailable), Retry-After and x-ratelimit-* headers.
type LimitError struct {
	Kind Kind
	// Rule names the limit: "max_tokens", "max_tokens:openai/0",
	// "requests/1m", "tokens/24h", "max_parallel", "redis".
	Rule      string
	Limit     int64
	Remaining int64 // what is left of Limit now (tokens, requests or slots)
	// RetryAfter is when the same request would fit if nothing else arrived.
	// Zero means waiting will not help: a lifetime budget, or a request larger
	// than the rule's whole limit.
	RetryAfter time.Duration
	// Reset is when the rule's counter has fully drained (windows); zero for
	// budgets, which never reset.
	Reset time.Time
	// Err is the cause of a KindUnavailable refusal.
	Err error
}

// Error implements error.
func (e *LimitError) Error() string {
	b := make([]byte, 0, 96)
	if e.Kind == KindUnavailable {
		b = append(b, "limits: counter store unavailable"...)
		if e.Err != nil {
			b = append(b, ": "...)
			b = append(b, e.Err.Error()...)
		}
		return string(b)
	}
	b = append(b, "limits: "...)
	b = append(b, e.Rule...)
	b = append(b, " exceeded (limit "...)
	b = strconv.AppendInt(b, e.Limit, 10)
	b = append(b, ", remaining "...)
	b = strconv.AppendInt(b, e.Remaining, 10)
	if e.RetryAfter > 0 {
		b = append(b, ", retry after "...)
		b = append(b, e.RetryAfter.String()...)
	}
	b = append(b, ')')
	return string(b)
}

// Is matches the sentinel of the error's kind.
func (e *LimitError) Is(target error) bool {
	switch target {
	case ErrBudgetExceeded:
		return e.Kind == KindBudget
	case ErrRateLimited:
		return e.Kind == KindRate
	case ErrTooManyParallel:
		return e.Kind == KindParallel
	case ErrUnavailable:
		return e.Kind == KindUnavailable
	}
	return false
}

// Unwrap returns the cause of an unavailability.
func (e *LimitError) Unwrap() error { return e.Err }

// Refusal statuses shared by the memory code and the Lua scripts.
const (
	statusOK       = 0
	statusBudget   = 1
	statusRate     = 2
	statusParallel = 3
	statusGranted  = 4 // Redis only: the lease id was already granted (a retried call)
)

// parallelRetry is the Retry-After hint for max_parallel refusals: a slot
// frees when any in-flight request ends, which the limiter cannot predict.
const parallelRetry = time.Second

// refusal builds the LimitError for a refusal status from the check's numbers.
// index is 1-based into req.Budgets or req.Windows, as the Lua scripts return it.
func refusal(req *Request, status int64, index int, limit, remaining, retryMs, resetMs int64) *LimitError {
	e := &LimitError{Limit: limit, Remaining: remaining}
	switch status {
	case statusBudget:
		e.Kind = KindBudget
		if index >= 1 && index <= len(req.Budgets) {
			e.Rule = req.Budgets[index-1].Rule()
		}
	case statusRate:
		e.Kind = KindRate
		if index >= 1 && index <= len(req.Windows) {
			e.Rule = req.Windows[index-1].Rule()
		}
	default:
		e.Kind = KindParallel
		e.Rule = "max_parallel"
	}
	if retryMs > 0 {
		e.RetryAfter = time.Duration(retryMs) * time.Millisecond
	}
	if resetMs > 0 {
		e.Reset = time.UnixMilli(resetMs)
	}
	return e
}
