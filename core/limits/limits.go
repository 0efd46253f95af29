package limits

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultLeaseTTL is how long a lease holds its max_parallel slot and its
// reservation without Settle or KeepAlive.
const DefaultLeaseTTL = 2 * time.Minute

// Limiter checks and charges budgets, rate windows and max_parallel for one
// subject (a token) atomically. Implementations: *Memory, *Redis, *Failover.
type Limiter interface {
	// Acquire reserves req.Reserve tokens against every budget and token
	// window, one request against every request window, and a max_parallel
	// slot, all or nothing. A refusal is a *LimitError and consumes nothing.
	Acquire(ctx context.Context, req *Request) (*Lease, error)
	// Settle replaces the lease's reservation by usedTokens in budgets and
	// token windows and frees its parallel slot. Usage above the reservation is
	// charged in full, even past a limit. Idempotent; a nil lease is a no-op.
	Settle(ctx context.Context, l *Lease, usedTokens int64) error
	// Spent reports a budget's settled usage and outstanding reservations.
	Spent(ctx context.Context, subject, budgetKey string) (used, reserved int64, err error)
	// Reset forgets every counter of subject (a token deleted or recreated).
	Reset(ctx context.Context, subject string) error
	Close() error
}

// Request is one admission check. Acquire keeps references to Budgets and
// Windows until Settle: do not modify them in between.
type Request struct {
	// Subject is the token hash; every counter is namespaced by it. Never the
	// token itself: Redis keys and persisted files contain it.
	Subject     string
	Budgets     []Budget
	Windows     []Window
	MaxParallel int   // 0 = unlimited
	Reserve     int64 // tokens reserved against budgets and token windows
	// Floor, when positive, lets Acquire clamp instead of refuse: when some
	// budget or token window cannot hold Worst, the grant is what is left
	// of the tightest of them, and the request is refused only when that is
	// below Floor (the caller's worst-case prompt plus one output token per
	// choice). Lease.Reserved reports the grant; the caller lowers the output
	// cap to fit it. 0 keeps the all-or-nothing check of Reserve.
	Floor int64
	// Worst is the reservation that holds whatever the prompt turns out to
	// cost (a guaranteed upper bound of the prompt plus the output cap). While
	// every counter can hold Worst, Reserve is granted; near the end of a
	// counter the grant covers the worst case and the output is clamped.
	// Values below Reserve are treated as Reserve.
	Worst int64
	// LeaseTTL bounds how long the parallel slot and the reservation outlive a
	// proxy that died mid-request; default DefaultLeaseTTL. Long streams call
	// Lease.KeepAlive.
	LeaseTTL time.Duration
	// Report is what an expired lease bills until the first Lease.Report:
	// the prompt as sent (what the provider bills for a request that never
	// answered). 0 bills the reservation.
	Report int64
	// Now replaces the clock (tests only). With Redis it replaces the server's
	// TIME too, so do not mix set and unset Now for one subject.
	Now time.Time
}

// Budget is a lifetime token budget: input plus output tokens.
type Budget struct {
	// Key is "" for the token's own max_tokens, or names a provider entry
	// ("openai/0"); each key is a separate counter. No newlines.
	Key string
	// Limit is the budget in tokens; 0 counts usage without limiting it.
	Limit int64
}

// Rule names the budget in errors: "max_tokens" or "max_tokens:<key>".
func (b Budget) Rule() string {
	if b.Key == "" {
		return "max_tokens"
	}
	return "max_tokens:" + b.Key
}

// Window is one rate rule: Limit requests (or tokens) per Window.
type Window struct {
	Name     string // for errors and logs; default like "requests/1m"
	Requests bool   // count requests; false counts tokens
	Limit    int64
	Window   time.Duration // at least 1ms; counted in whole milliseconds
	Fixed    bool          // fixed windows instead of the default sliding ones
}

// Rule returns Name, or a name derived from the rule: "requests/1m",
// "tokens/24h".
func (w Window) Rule() string {
	if w.Name != "" {
		return w.Name
	}
	kind := "tokens/"
	if w.Requests {
		kind = "requests/"
	}
	return kind + shortDuration(w.Window)
}

// flags encodes the window's kind as the Lua scripts expect it.
func (w Window) flags() int64 {
	var f int64
	if !w.Requests {
		f |= flagTokens
	}
	if w.Fixed {
		f |= flagFixed
	}
	return f
}

const (
	flagTokens = 1
	flagFixed  = 2
)

// shortDuration prints 1m rather than 1m0s, 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// validate rejects what no backend can count correctly.
func (r *Request) validate() error {
	if r.Subject == "" {
		return fmt.Errorf("%w: empty subject", ErrInvalidRequest)
	}
	if r.Reserve < 0 || r.Floor < 0 || r.Worst < 0 || r.MaxParallel < 0 || r.LeaseTTL < 0 {
		return fmt.Errorf("%w: negative reserve, max_parallel or lease TTL", ErrInvalidRequest)
	}
	for i, b := range r.Budgets {
		if b.Limit < 0 {
			return fmt.Errorf("%w: budget %q has a negative limit", ErrInvalidRequest, b.Key)
		}
		if strings.IndexByte(b.Key, '\n') >= 0 {
			return fmt.Errorf("%w: budget key %q contains a newline", ErrInvalidRequest, b.Key)
		}
		for _, o := range r.Budgets[:i] {
			if o.Key == b.Key {
				return fmt.Errorf("%w: budget %q listed twice", ErrInvalidRequest, b.Key)
			}
		}
	}
	for i, w := range r.Windows {
		if w.Limit <= 0 || w.Window < time.Millisecond {
			return fmt.Errorf("%w: rule %q needs a positive limit and a window of at least 1ms", ErrInvalidRequest, w.Rule())
		}
		for _, o := range r.Windows[:i] {
			if o.Requests == w.Requests && o.Fixed == w.Fixed && o.Window.Milliseconds() == w.Window.Milliseconds() {
				return fmt.Errorf("%w: rule %q listed twice", ErrInvalidRequest, w.Rule())
			}
		}
	}
	return nil
}

// MaxTokens is the largest token count a counter, a reservation or a usage
// report may carry: 2^50, far above any real budget yet exact in the
// double-precision numbers of Redis' Lua, so no sum of a few of them wraps.
// Larger values saturate to it.
const MaxTokens int64 = 1 << 50

// SatAdd adds token counts, saturating at MaxTokens (and at 0 below).
func SatAdd(a, b int64) int64 {
	s := a + b
	switch {
	case (a > 0 && b > 0 && s < 0) || s > MaxTokens:
		return MaxTokens
	case s < 0:
		return 0
	}
	return s
}

// SatMul multiplies non-negative token counts, saturating at MaxTokens.
func SatMul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > MaxTokens/b {
		return MaxTokens
	}
	return a * b
}

// clampTokens bounds a count to [0, MaxTokens].
func clampTokens(n int64) int64 { return min(max(n, 0), MaxTokens) }

// amounts returns the reservation, floor and worst case, saturated, with
// Worst at least Reserve and Floor at most Worst.
func (r *Request) amounts() (reserve, floor, worst int64) {
	reserve, floor, worst = clampTokens(r.Reserve), clampTokens(r.Floor), clampTokens(r.Worst)
	worst = max(worst, reserve)
	floor = min(floor, worst)
	return reserve, floor, worst
}

// grant decides the reservation from the tightest headroom among the
// limited counters (h < 0: none is limited); clamped says the grant is the
// headroom, not Reserve.
func grant(reserve, floor, worst, h int64) (g int64, clamped bool) {
	if floor <= 0 || h < 0 || h >= worst {
		return reserve, false
	}
	return max(h, floor), true // below floor: the checks refuse at the tight counter
}

func (r *Request) leaseTTL() time.Duration {
	if r.LeaseTTL > 0 {
		return r.LeaseTTL
	}
	return DefaultLeaseTTL
}

// RateStatus is one rule's state after a granted request, for the
// x-ratelimit-limit/remaining/reset-* headers.
type RateStatus struct {
	Window    Window // the rule; zero when the request had no such rule
	Remaining int64
	Reset     time.Time // when the window has fully drained
}

// Limit returns the rule's limit, 0 when there is no rule.
func (s RateStatus) Limit() int64 { return s.Window.Limit }

// RateInfo holds the tightest (least remaining) request rule and token rule.
type RateInfo struct {
	Requests RateStatus
	Tokens   RateStatus
}

// rateMarks is a lease's RateInfo kept small (the lease is allocated per
// request): each kind's tightest window by index into Lease.windows, which
// Lease.Rate expands.
type rateMarks struct {
	requests, tokens rateMark
}

type rateMark struct {
	win       int32 // 1 + index into Lease.windows; 0: no rule of this kind
	remaining int64
	resetMs   int64
}

// note keeps window j's status if it is the tightest of its kind so far.
func (m *rateMarks) note(windows []Window, j int, remaining, resetMs int64) {
	s := &m.tokens
	if windows[j].Requests {
		s = &m.requests
	}
	if s.win != 0 && windows[s.win-1].Limit != 0 && s.remaining <= remaining {
		return
	}
	*s = rateMark{win: int32(j + 1), remaining: remaining, resetMs: resetMs}
}

func (m rateMark) status(windows []Window) RateStatus {
	if m.win == 0 {
		return RateStatus{}
	}
	return RateStatus{Window: windows[m.win-1], Remaining: m.remaining, Reset: time.UnixMilli(m.resetMs)}
}

// Lease is a granted request: its reservation and parallel slot, held until
// Settle or expiry. A lease returns to the backend that granted it.
//
// Leases are allocated, not pooled: a lease outlives its Settle by design
// (a second Settle is a no-op, KeepAlive answers ErrLeaseExpired, the
// proxy's renewer may call KeepAlive on a lease its request settled a
// moment ago, reclaim and Failover's pending queue hold it past its
// holder), so no single point returns it, and a recycled one would take
// such a late call for another request's. It is kept small instead.
type Lease struct {
	owner    leaseOwner
	subject  string
	id       string // Redis lease id
	reserved int64
	report   atomic.Int64 // what expiry bills: the last Report (memory; Redis keeps it in the record)
	charged  int64        // memory: what expiry charged
	windows  []Window     // the request's windows, for token-window settlement
	marks    []windowMark
	markBuf  [3]windowMark
	rate     rateMarks // Rate, over windows
	state    atomic.Uint32
	clamped  bool // reserved is what was left, not Request.Reserve
	// expired: reclaimed, its reservation charged as usage (memory backend,
	// guarded by the subject's shard lock). Next to state and clamped: the
	// three share one word.
	expired bool

	// Memory backend; guarded by the subject's shard lock.
	st      *subjectState
	slots   []int32 // budget slots in st.budgets
	slotBuf [4]int32
	heapIdx int
	expiry  int64 // unix ms
}

// windowMark records which bucket a token window's reservation went into.
type windowMark struct {
	win  int32 // index into Lease.windows
	slot int32 // memory: index into subjectState.windows
	idx  int64 // bucket number (now / window)
}

const (
	leaseOpen uint32 = iota
	leaseSettling
	leaseSettled
)

type leaseOwner interface {
	settle(ctx context.Context, l *Lease, used int64) error
	keepAlive(ctx context.Context, l *Lease, ttl time.Duration) error
}

// Reserved returns the tokens reserved at Acquire.
func (l *Lease) Reserved() int64 { return l.reserved }

// Clamped reports that a counter could not hold Request.Worst, so the grant
// (Reserved) is what was left of the tightest counter: the caller must fit
// the prompt's worst case and the output into it.
func (l *Lease) Clamped() bool { return l.clamped }

// Rate returns the tightest request and token rule after this request was
// granted. After a Redis call retried by the client library, it may be empty.
func (l *Lease) Rate() RateInfo {
	return RateInfo{Requests: l.rate.requests.status(l.windows), Tokens: l.rate.tokens.status(l.windows)}
}

// ID identifies the lease in logs (Redis leases only; "" otherwise).
func (l *Lease) ID() string { return l.id }

// Report records the usage produced so far (prompt and output seen). It is
// sent with the next KeepAlive; a lease that then expires, or is released
// at the restart of the proxy that held it, bills this instead of the
// reservation. Cheap: one atomic store.
func (l *Lease) Report(used int64) { l.report.Store(clampTokens(used)) }

// expiryCharge is what the lease bills when it expires unsettled.
func (l *Lease) expiryCharge() int64 {
	if r := l.report.Load(); r > 0 {
		return r
	}
	return l.reserved
}

// KeepAlive pushes the lease's expiry to ttl from now (DefaultLeaseTTL when
// ttl is 0); long streams call it periodically. ErrLeaseExpired after Settle
// or expiry.
func (l *Lease) KeepAlive(ctx context.Context, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	if l.state.Load() != leaseOpen {
		return ErrLeaseExpired
	}
	return l.owner.keepAlive(ctx, l, ttl)
}

// settleLease is every backend's Settle: the lease goes back to its owner.
func settleLease(ctx context.Context, l *Lease, used int64) error {
	if l == nil {
		return nil
	}
	if used < 0 {
		return fmt.Errorf("%w: negative usage %d", ErrInvalidRequest, used)
	}
	return l.owner.settle(ctx, l, min(used, MaxTokens))
}
