// Package limits enforces token budgets, rate limits and max_parallel behind
// one interface, Limiter, with three implementations: Memory (one process),
// Redis (a fleet of proxies sharing counters) and Failover (Redis with a
// local fallback for outages).
//
// # Reserve, then settle
//
// Acquire atomically checks every applicable counter of a Request — each
// budget (the token's max_tokens and the provider entry's, separate counters),
// each rate window and max_parallel — and either changes all of them or none:
// a refused request consumes nothing anywhere. It reserves Request.Reserve
// tokens (the caller's prompt estimate plus the output cap) against budgets
// and token windows, counts one request in request windows, and takes a
// parallel slot. Settle then replaces the reservation by the real usage:
// less releases the difference, more is charged in full even past the limit
// (usage is never lost). Settle is idempotent.
//
// A budget admits a request only if used + reserved + Reserve <= Limit
// (treating a zero Reserve as 1, so an exhausted budget refuses everything).
// Concurrent requests therefore cannot overspend a budget by more than the
// sum over admitted requests of max(0, actual - reserved): the estimation
// error, zero when the reservation is a true upper bound.
//
// # Clamping
//
// A Request with Floor set clamps instead of refusing: while every limited
// budget and token window can hold Worst (the caller's guaranteed prompt
// bound plus the output cap), Reserve is granted; otherwise the grant is
// what the tightest of them has left, refused only below Floor.
// Lease.Clamped tells the caller to fit its output into Lease.Reserved.
// Both backends decide alike (TestConformance). All amounts saturate at
// MaxTokens. See docs/BUDGETS.md.
//
// # Leases
//
// A granted request holds a Lease until Settle. A lease expires after
// Request.LeaseTTL (default 2m; long streams call Lease.KeepAlive) so that a
// proxy dying mid-request cannot hold a parallel slot or a reservation
// forever. At expiry the slot frees and the usage last reported
// (Request.Report, then Lease.Report sent with each KeepAlive; the
// reservation when none) is charged, because the provider billed at least
// that; Redis.ReleaseOrphans does the same at once for the leases of a
// previous run of the same proxy instance. A Settle arriving later corrects
// the charge to the real usage (Redis keeps the expired record one hour for
// this). In Redis, leases live in a sorted set scored by expiry; in memory, in
// a per-subject heap. Expired leases are collected by the next Acquire of the
// same subject, a bounded number per call.
//
// # Rate windows
//
// Each rule is a sliding window (default) or a fixed window. Sliding
// windows use GCRA: one number per rule, the theoretical arrival time (TAT),
// the moment the window would be empty if nothing else arrived. A unit of
// cost (one request, or one token) takes window/limit of time; a request of
// cost n is admitted when max(TAT, now) + n × window/limit <= now + window,
// and then moves TAT there. Checks are O(1) in time and space, with no
// per-request log and no scans. A burst may take the whole limit at once;
// after it, units return one per window/limit, so the long-run rate never
// exceeds limit per window, and any window-long interval holds at most
// 2 × limit (a full burst plus a window's refill, the same worst case as
// fixed windows across a boundary). A refused request fits again exactly
// at now + RetryAfter, never later than one window (admissions keep TAT
// within a window of now): clients that honour Retry-After recover. The clock is milliseconds; TAT keeps the
// fraction (Redis stores it with 17 significant digits, so both backends
// compute the same doubles). Fixed windows count per bucket now / window
// and reset at each boundary, so up to 2 × limit can pass around one.
// Token rules add the reservation at Acquire and move TAT by
// (actual − reserved) × window/limit at Settle (a fixed window: its bucket,
// if still current).
//
// A refusal is a *LimitError with the rule, its limit and what remains,
// RetryAfter (when this request would fit if nothing else arrived) and Reset
// (when the window has drained). On success Lease.Rate gives the tightest
// request and token rule for x-ratelimit-* headers.
//
// # Memory
//
// Subjects are spread over 64 shards, each with its own mutex, and each
// subject's check-and-change runs under its shard's lock: exact on one
// proxy, with no global lock. Snapshot and Restore, with a Persister such as
// BoltPersister driven by StartPersist, carry settled budget usage across
// restarts. Outstanding reservations are not persisted: a crash loses the
// usage settled since the last save, at most one persist interval's worth,
// plus whatever the requests in flight at the crash consumed.
//
// # Redis
//
// Every Acquire, Settle and KeepAlive is one Lua script (EVALSHA, falling
// back to EVAL), atomic on the server, so the bounds above hold for the whole
// fleet. A subject's state lives in five keys sharing the hash tag {subject}
// (one Redis Cluster slot); see lua.go for the layout. Windows use the
// server's TIME, so proxies with skewed clocks agree; window state expires
// after inactivity, budgets never do. Every call is bounded by a short
// timeout (200ms by default): an unreachable Redis yields a KindUnavailable
// refusal, never a hang.
//
// # Failover
//
// With FailClosed an unreachable Redis refuses every request (503). With
// FailOpen each proxy admits requests on its own counters: its budgets start
// from the Redis totals last seen for each subject, its windows and
// max_parallel count only its own traffic. During an outage a fleet of N
// proxies can thus overspend a budget by up to (N − 1) × what remained at the
// outage's start, and admit up to N × a rate limit. When Redis answers again
// the failover first delivers the queued work — settles of Redis leases,
// releases of acquires whose outcome was unknown, usage settled locally (one
// idempotent script call per subject) — and only then switches back.
package limits
