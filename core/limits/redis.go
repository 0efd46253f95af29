package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisTimeout bounds every Redis call: a limiter must never hang a
// request on an unreachable Redis.
const DefaultRedisTimeout = 200 * time.Millisecond

// tombstoneTTL is how long an expired lease's record, or a reconcile batch
// marker, is kept so that a late Settle or a retried reconcile is exact.
const tombstoneTTL = time.Hour

// ErrConfig is returned by constructors given an unusable configuration.
var ErrConfig = errors.New("limits: invalid configuration")

// RedisOptions configures NewRedis.
type RedisOptions struct {
	// Timeout bounds each call (one script run); default DefaultRedisTimeout.
	Timeout time.Duration
	// Prefix starts every key; default "tkn", giving keys like "tkn:{<subject>}:b".
	Prefix string
	// Instance is the proxy's stable id (kept next to its database). Lease
	// ids then start with it, so a restarted proxy can free the leases its
	// previous run left behind (ReleaseOrphans). "" gives random ids.
	Instance string
}

// Redis keeps counters in Redis, shared by every proxy. Each Acquire, Settle
// and KeepAlive is one Lua script call, atomic on the server.
type Redis struct {
	client    redis.UniversalClient
	probe     redis.UniversalClient // one connection of its own, so a busy pool cannot fake an outage
	timeout   time.Duration
	prefix    string
	idPrefix  string
	instance  string // "<instance>." or ""
	ownsProbe bool
	seq       atomic.Uint64
	closed    atomic.Bool
}

// NewRedis returns a Redis limiter over client, which the caller owns and
// closes. The client must honour context deadlines (ContextTimeoutEnabled;
// see RedisClientOptions), or a hung server could hold requests for the
// client's own read timeout. No network call is made here.
func NewRedis(client redis.UniversalClient, opts RedisOptions) (*Redis, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil Redis client", ErrConfig)
	}
	ctxTimeouts := true
	switch c := client.(type) {
	case *redis.Client:
		ctxTimeouts = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		ctxTimeouts = c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		ctxTimeouts = c.Options().ContextTimeoutEnabled
	}
	if !ctxTimeouts {
		return nil, fmt.Errorf("%w: the Redis client needs ContextTimeoutEnabled so calls stop at the limiter's timeout", ErrConfig)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("generating lease id prefix: %w", err)
	}
	r := &Redis{
		client:   client,
		timeout:  opts.Timeout,
		prefix:   opts.Prefix,
		idPrefix: hex.EncodeToString(rnd[:]) + ".",
	}
	if opts.Instance != "" {
		if strings.ContainsAny(opts.Instance, ".\n{}") {
			return nil, fmt.Errorf("%w: instance id %q", ErrConfig, opts.Instance)
		}
		// instance.run.seq: the run part tells this run's leases from a
		// predecessor's.
		r.instance = opts.Instance + "."
		r.idPrefix = r.instance + hex.EncodeToString(rnd[:4]) + "."
	}
	if r.timeout <= 0 {
		r.timeout = DefaultRedisTimeout
	}
	if r.prefix == "" {
		r.prefix = "tkn"
	}
	r.probe = client
	if c, ok := client.(*redis.Client); ok {
		po := *c.Options()
		po.PoolSize, po.MinIdleConns, po.MaxIdleConns = 1, 0, 1
		r.probe = redis.NewClient(&po)
		r.ownsProbe = true
	}
	return r, nil
}

// RedisClientOptions returns client options fit for the limiter: context
// deadlines honoured, and dial, read, write and pool waits bounded by
// timeout. Set TLS, username and the like on the result as needed.
func RedisClientOptions(addrs []string, password string, db int, timeout time.Duration) *redis.UniversalOptions {
	if timeout <= 0 {
		timeout = DefaultRedisTimeout
	}
	return &redis.UniversalOptions{
		Addrs:                 addrs,
		Password:              password,
		DB:                    db,
		ContextTimeoutEnabled: true,
		DialTimeout:           timeout,
		ReadTimeout:           timeout,
		WriteTimeout:          timeout,
		PoolTimeout:           timeout,
		// Every request makes two short calls; a pool sized for a busy
		// proxy keeps pool waits from eating the timeout.
		PoolSize:     max(64, 16*runtime.GOMAXPROCS(0)),
		MinIdleConns: 8, // a burst after a quiet spell finds connections ready
	}
}

// keys returns the subject's five keys in script order (see lua.go).
func (r *Redis) keys(subject string) []string {
	p := r.prefix + ":{" + subject + "}:"
	return []string{p + "b", p + "l", p + "r", p + "t", p + "w"}
}

func (r *Redis) newID() string {
	return r.idPrefix + strconv.FormatUint(r.seq.Add(1), 36)
}

func nowArg(req *Request) int64 {
	if req.Now.IsZero() {
		return 0 // the script reads the server's TIME
	}
	return req.Now.UnixMilli()
}

// Acquire implements Limiter.
func (r *Redis) Acquire(ctx context.Context, req *Request) (*Lease, error) {
	l, _, err := r.acquire(ctx, req)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// acquire also returns the budgets' totals (used+reserved, for the failover's
// local mirror), and on an unavailability the lease that may or may not have
// been granted, so that the failover can cancel it later.
func (r *Redis) acquire(ctx context.Context, req *Request) (*Lease, []int64, error) {
	return r.acquireID(ctx, req, "")
}

// acquireID is acquire with a given lease id ("" makes a new one): a retry
// with the id of a call whose outcome is unknown cannot grant twice.
func (r *Redis) acquireID(ctx context.Context, req *Request, id string) (*Lease, []int64, error) {
	if r.closed.Load() {
		return nil, nil, ErrClosed
	}
	if err := req.validate(); err != nil {
		return nil, nil, err
	}
	if id == "" {
		id = r.newID()
	}
	reserve, floor, worst := req.amounts()
	l := &Lease{owner: r, subject: req.Subject, id: id, reserved: reserve, windows: req.Windows, heapIdx: -1}
	args := make([]any, 0, 10+2*len(req.Budgets)+3*len(req.Windows))
	args = append(args, l.id, reserve, req.leaseTTL().Milliseconds(), req.MaxParallel,
		nowArg(req), tombstoneTTL.Milliseconds(), floor, worst, clampTokens(req.Report), len(req.Budgets))
	for _, b := range req.Budgets {
		args = append(args, b.Key, b.Limit)
	}
	args = append(args, len(req.Windows))
	for _, w := range req.Windows {
		args = append(args, w.flags(), w.Window.Milliseconds(), w.Limit)
	}
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := acquireScript.Run(cctx, r.client, r.keys(req.Subject), args...).Int64Slice()
	if err != nil {
		return l, nil, r.wrap(ctx, "acquiring", err)
	}
	if len(v) < 2 {
		return nil, nil, fmt.Errorf("acquiring: short script reply %v", v)
	}
	switch v[0] {
	case statusOK:
	case statusGranted:
		if len(v) > 2 {
			// A grant below Reserve was clamped; the caller must fit it.
			l.reserved, l.clamped = v[2], v[2] < reserve
		}
		return l, nil, nil
	default:
		if len(v) < 7 {
			return nil, nil, fmt.Errorf("acquiring: short script reply %v", v)
		}
		return nil, nil, refusal(req, v[0], int(v[2]), v[3], v[4], v[5], v[6])
	}
	nb := int(v[2])
	if len(v) < 4+nb || len(v) != 6+nb+3*int(v[3+nb]) || int(v[3+nb]) != len(req.Windows) {
		return nil, nil, fmt.Errorf("acquiring: malformed script reply %v", v)
	}
	totals := v[3 : 3+nb]
	l.reserved, l.clamped = v[len(v)-2], v[len(v)-1] == 1
	l.marks = l.markBuf[:0]
	for j := range req.Windows {
		w := &req.Windows[j]
		o := 4 + nb + 3*j
		l.rate.note(req.Windows, j, v[o+1], v[o+2])
		if !w.Requests {
			l.marks = append(l.marks, windowMark{win: int32(j), idx: v[o]})
		}
	}
	return l, totals, nil
}

// Settle implements Limiter. On an error the lease stays open and Settle may
// be called again; Failover does that after an outage.
func (r *Redis) Settle(ctx context.Context, l *Lease, usedTokens int64) error {
	return settleLease(ctx, l, usedTokens)
}

func (r *Redis) settle(ctx context.Context, l *Lease, used int64) error {
	if !l.state.CompareAndSwap(leaseOpen, leaseSettling) {
		return nil
	}
	if err := r.runSettle(ctx, l, used); err != nil {
		l.state.Store(leaseOpen)
		return err
	}
	l.state.Store(leaseSettled)
	return nil
}

// runSettle runs the settle script whatever the lease's state; the script
// itself is idempotent per lease id.
func (r *Redis) runSettle(ctx context.Context, l *Lease, used int64) error {
	args := make([]any, 0, 3+4*len(l.marks))
	args = append(args, l.id, used, len(l.marks))
	for _, mk := range l.marks {
		w := &l.windows[mk.win]
		args = append(args, w.flags(), w.Window.Milliseconds(), mk.idx, w.Limit)
	}
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := settleScript.Run(cctx, r.client, r.keys(l.subject), args...).Err(); err != nil {
		return r.wrap(ctx, "settling", err)
	}
	return nil
}

func (r *Redis) keepAlive(ctx context.Context, l *Lease, ttl time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	k := r.keys(l.subject)
	ok, err := keepAliveScript.Run(cctx, r.client, k[1:3], l.id, ttl.Milliseconds(), 0, l.report.Load()).Int64()
	if err != nil {
		return r.wrap(ctx, "keeping lease alive", err)
	}
	if ok == 0 {
		return ErrLeaseExpired
	}
	return nil
}

// sync adds usage owed by a local outage to the subject's budgets, once per
// batch id.
func (r *Redis) sync(ctx context.Context, subject, batch string, keys []string, deltas []int64) error {
	args := make([]any, 0, 3+2*len(keys))
	args = append(args, batch, 0, tombstoneTTL.Milliseconds())
	for i, k := range keys {
		args = append(args, k, deltas[i])
	}
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	k := r.keys(subject)
	if err := syncScript.Run(cctx, r.client, []string{k[0], k[2], k[3]}, args...).Err(); err != nil {
		return r.wrap(ctx, "reconciling", err)
	}
	return nil
}

// ping reports whether Redis answers within timeout (the call timeout when 0).
func (r *Redis) ping(ctx context.Context, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = r.timeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := r.probe.Ping(cctx).Err(); err != nil {
		return r.wrap(ctx, "pinging", err)
	}
	return nil
}

// Spent implements Limiter.
func (r *Redis) Spent(ctx context.Context, subject, budgetKey string) (used, reserved int64, err error) {
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := r.client.HMGet(cctx, r.keys(subject)[0], "u:"+budgetKey, "r:"+budgetKey).Result()
	if err != nil {
		return 0, 0, r.wrap(ctx, "reading budget", err)
	}
	used, err = parseCount(v[0])
	if err != nil {
		return 0, 0, err
	}
	reserved, err = parseCount(v[1])
	return used, reserved, err
}

func parseCount(v any) (int64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, nil // missing field
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing counter %q: %w", s, err)
	}
	return n, nil
}

// Reset implements Limiter: it deletes the subject's five keys.
func (r *Redis) Reset(ctx context.Context, subject string) error {
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Del(cctx, r.keys(subject)...).Err(); err != nil {
		return r.wrap(ctx, "resetting counters", err)
	}
	return nil
}

// Close makes Acquire return ErrClosed. It does not close the client, which
// the caller owns.
func (r *Redis) Close() error {
	if r.closed.Swap(true) || !r.ownsProbe {
		return nil
	}
	return r.probe.Close()
}

// wrap turns an unreachable Redis into a KindUnavailable *LimitError and
// anything else (a script error, the caller's own cancellation) into a plain
// wrapped error.
func (r *Redis) wrap(parent context.Context, doing string, err error) error {
	if parent.Err() == nil && unreachable(err) {
		return &LimitError{Kind: KindUnavailable, Rule: "redis", Err: fmt.Errorf("%s: %w", doing, err)}
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// ReleaseOrphans frees, at once, the leases a previous run of this proxy
// instance left in Redis (it was killed with requests in flight): each
// slot frees and each lease bills the usage it last reported, as expiry
// would. It scans the lease keys once; call it at start, before serving.
// Without RedisOptions.Instance it does nothing.
func (r *Redis) ReleaseOrphans(ctx context.Context) (int, error) {
	if r.instance == "" {
		return 0, nil
	}
	var freed atomic.Int64
	err := scanAll(ctx, r.client, r.prefix+":{*}:l", func(key string) error {
		open, end := strings.IndexByte(key, '{'), strings.LastIndex(key, "}:l")
		if open < 0 || end <= open {
			return nil
		}
		// The subject's keys share its hash tag: one slot, so the script
		// runs on the node that owns them whatever the client is.
		cctx, cancel := context.WithTimeout(ctx, 5*r.timeout)
		n, err := releaseScript.Run(cctx, r.client, r.keys(key[open+1:end]), r.instance, r.idPrefix, 0, tombstoneTTL.Milliseconds()).Int()
		cancel()
		if err != nil {
			return r.wrap(ctx, "releasing leases of a previous run", err)
		}
		freed.Add(int64(n))
		return nil
	})
	var le *LimitError
	if err != nil && !errors.As(err, &le) {
		err = r.wrap(ctx, "scanning leases", err)
	}
	return int(freed.Load()), err
}

// scanAll calls fn for every key matching pattern on every node that holds
// data: each master of a Cluster, each shard of a Ring, else the one server
// (a plain or Sentinel-managed client). fn may run concurrently for
// different nodes.
func scanAll(ctx context.Context, c redis.UniversalClient, pattern string, fn func(key string) error) error {
	each := func(ctx context.Context, node *redis.Client) error { return scanNode(ctx, node, pattern, fn) }
	switch cc := c.(type) {
	case interface {
		ForEachMaster(context.Context, func(context.Context, *redis.Client) error) error
	}:
		return cc.ForEachMaster(ctx, each)
	case interface {
		ForEachShard(context.Context, func(context.Context, *redis.Client) error) error
	}:
		return cc.ForEachShard(ctx, each)
	}
	return scanNode(ctx, c, pattern, fn)
}

func scanNode(ctx context.Context, c redis.Cmdable, pattern string, fn func(key string) error) error {
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		if err := fn(iter.Val()); err != nil {
			return err
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scanning %q: %w", pattern, err)
	}
	return nil
}

var _ Limiter = (*Redis)(nil)
