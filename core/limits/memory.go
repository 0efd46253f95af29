package limits

import (
	"context"
	"hash/maphash"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// shardCount spreads subjects over independently locked shards: no global
// mutex, and contention only between requests of subjects in one shard.
const shardCount = 64

// MemoryOptions configures NewMemory.
type MemoryOptions struct {
	Logger hclog.Logger // default: a null logger
	// Now is the clock; default time.Now. Request.Now overrides it per call.
	Now func() time.Time
	// Persister, when set, is loaded by NewMemory and saved by StartPersist's
	// loop and by Close.
	Persister Persister
}

// Memory keeps every counter in this process. Each subject's check-and-change
// runs under its shard's lock, so it is atomic and exact on one proxy.
type Memory struct {
	shards    [shardCount]memShard
	seed      maphash.Seed
	now       func() time.Time
	log       hclog.Logger
	persister Persister
	// trackUnsynced makes settled usage count as owed to Redis (set by
	// NewFailover before first use, read-only afterwards).
	trackUnsynced bool

	closed      atomic.Bool
	persistOnce sync.Once
	stop        chan struct{}
	done        chan struct{}
}

type memShard struct {
	mu       sync.Mutex
	subjects map[string]*subjectState
	dirty    map[string]*subjectState // subjects with usage owed to Redis
	_        [24]byte                 // keep hot shard locks on separate cache lines
}

type subjectState struct {
	subject string
	budgets []budgetState
	windows []memWindow
	leases  []*Lease // min-heap on expiry, see leaseheap.go
}

type budgetState struct {
	key      string
	used     int64 // settled usage (in failover mode: not yet in Redis)
	reserved int64
	base     int64 // failover mode: Redis used+reserved when last seen
	unsynced int64 // failover mode: usage owed to Redis
}

type memWindow struct {
	flags int64
	w     int64 // ms
	s     winState
}

// NewMemory returns an in-process limiter, restored from opts.Persister if set.
func NewMemory(opts MemoryOptions) (*Memory, error) {
	m := &Memory{
		seed:      maphash.MakeSeed(),
		now:       opts.Now,
		log:       opts.Logger,
		persister: opts.Persister,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = hclog.NewNullLogger()
	}
	m.log = m.log.Named("limits")
	for i := range m.shards {
		m.shards[i].subjects = make(map[string]*subjectState)
		m.shards[i].dirty = make(map[string]*subjectState)
	}
	if m.persister != nil {
		cs, err := m.persister.Load()
		if err != nil {
			return nil, err
		}
		m.Restore(cs)
	}
	return m, nil
}

func (m *Memory) shard(subject string) *memShard {
	return &m.shards[maphash.String(m.seed, subject)%shardCount]
}

func (m *Memory) nowMs(req *Request) int64 {
	if !req.Now.IsZero() {
		return req.Now.UnixMilli()
	}
	return m.now().UnixMilli()
}

// Acquire implements Limiter.
func (m *Memory) Acquire(_ context.Context, req *Request) (*Lease, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	now := m.nowMs(req)
	sh := m.shard(req.Subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.subjects[req.Subject]
	if st == nil {
		st = &subjectState{subject: req.Subject}
		sh.subjects[req.Subject] = st
	}
	m.reclaim(sh, st, now)
	return m.admit(st, req, now)
}

// admit checks everything first and changes nothing until all checks passed.
func (m *Memory) admit(st *subjectState, req *Request, now int64) (*Lease, error) {
	reserve, floor, worst := req.amounts()
	r, clamped := reserve, false
	if floor > 0 {
		r, clamped = grant(reserve, floor, worst, m.headroom(st, req, now))
	}
	var slotBuf [8]int32
	slots := slotBuf[:0]
	for j := range req.Budgets {
		b := &req.Budgets[j]
		slot := st.budget(b.Key)
		var total int64
		if slot >= 0 {
			bs := &st.budgets[slot]
			total = bs.base + bs.used + bs.reserved
		}
		if b.Limit > 0 && SatAdd(total, need(r)) > b.Limit {
			return nil, refusal(req, statusBudget, j+1, b.Limit, max(0, b.Limit-total), 0, 0)
		}
		slots = append(slots, slot)
	}

	var stateBuf [4]winState
	var wslotBuf [4]int32
	states, wslots := stateBuf[:0], wslotBuf[:0]
	for j := range req.Windows {
		w := &req.Windows[j]
		wms := w.Window.Milliseconds()
		slot := st.window(w.flags(), wms)
		s := winState{i: -1}
		if slot >= 0 {
			s = st.windows[slot].s
		}
		s.roll(floorDiv(now, wms), w.Fixed)
		cost := windowCost(w, r)
		if !s.fits(wms, now, cost, w.Limit, w.Fixed) {
			return nil, refusal(req, statusRate, j+1, w.Limit, s.remaining(wms, now, w.Limit, w.Fixed),
				s.retryMs(wms, now, cost, w.Limit, w.Fixed), s.drainMs(wms, now, w.Fixed))
		}
		states = append(states, s)
		wslots = append(wslots, slot)
	}

	if req.MaxParallel > 0 && len(st.leases) >= req.MaxParallel {
		return nil, refusal(req, statusParallel, 0, int64(req.MaxParallel), 0,
			parallelRetry.Milliseconds(), st.leases[0].expiry)
	}

	l := &Lease{owner: m, subject: req.Subject, reserved: r, clamped: clamped, windows: req.Windows, st: st}
	l.slots = l.slotBuf[:0]
	for j, slot := range slots {
		if slot < 0 {
			slot = st.addBudget(req.Budgets[j].Key)
		}
		st.budgets[slot].reserved += r
		l.slots = append(l.slots, slot)
	}
	l.marks = l.markBuf[:0]
	for j := range req.Windows {
		w := &req.Windows[j]
		wms := w.Window.Milliseconds()
		s := states[j]
		s.add(wms, now, windowCost(w, r), w.Limit, w.Fixed)
		slot := wslots[j]
		if slot < 0 {
			slot = st.addWindow(w.flags(), wms)
		}
		st.windows[slot].s = s
		l.rate.note(req.Windows, j, s.remaining(wms, now, w.Limit, w.Fixed), s.drainMs(wms, now, w.Fixed))
		if !w.Requests {
			l.marks = append(l.marks, windowMark{win: int32(j), slot: slot, idx: s.i})
		}
	}
	l.report.Store(clampTokens(req.Report))
	l.expiry = now + req.leaseTTL().Milliseconds()
	st.push(l)
	return l, nil
}

// headroom is the least any limited budget or token window has left, or -1
// when none is limited. The Lua acquire script computes the same.
func (m *Memory) headroom(st *subjectState, req *Request, now int64) int64 {
	h := int64(-1)
	for j := range req.Budgets {
		b := &req.Budgets[j]
		if b.Limit <= 0 {
			continue
		}
		var total int64
		if slot := st.budget(b.Key); slot >= 0 {
			bs := &st.budgets[slot]
			total = bs.base + bs.used + bs.reserved
		}
		if left := max(0, b.Limit-total); h < 0 || left < h {
			h = left
		}
	}
	for j := range req.Windows {
		w := &req.Windows[j]
		if w.Requests {
			continue
		}
		wms := w.Window.Milliseconds()
		s := winState{i: -1}
		if slot := st.window(w.flags(), wms); slot >= 0 {
			s = st.windows[slot].s
		}
		s.roll(floorDiv(now, wms), w.Fixed)
		if left := s.remaining(wms, now, w.Limit, w.Fixed); h < 0 || left < h {
			h = left
		}
	}
	return h
}

func windowCost(w *Window, reserve int64) int64 {
	if w.Requests {
		return 1
	}
	return reserve
}

// reclaim expires leases whose holder neither settled nor kept them alive
// (a leaked lease, or a failed settle): the slot frees and the usage last
// reported (Lease.Report; the reservation when none) is charged, since the
// provider billed at least that. A late Settle
// corrects the charge to the real usage.
func (m *Memory) reclaim(sh *memShard, st *subjectState, now int64) {
	for len(st.leases) > 0 && st.leases[0].expiry <= now {
		l := st.pop()
		l.expired = true
		l.charged = l.expiryCharge()
		for _, slot := range l.slots {
			b := &st.budgets[slot]
			b.reserved -= l.reserved
			m.charge(sh, st, b, l.charged)
		}
	}
}

// charge adds usage (negative corrects an over-charge, never below zero).
func (m *Memory) charge(sh *memShard, st *subjectState, b *budgetState, delta int64) {
	before := b.used
	b.used = SatAdd(b.used, delta)
	if m.trackUnsynced && b.used != before {
		b.unsynced += b.used - before
		sh.dirty[st.subject] = st
	}
}

// Settle implements Limiter.
func (m *Memory) Settle(ctx context.Context, l *Lease, usedTokens int64) error {
	return settleLease(ctx, l, usedTokens)
}

func (m *Memory) settle(_ context.Context, l *Lease, used int64) error {
	if !l.state.CompareAndSwap(leaseOpen, leaseSettled) {
		return nil
	}
	sh := m.shard(l.subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := l.st
	delta := used - l.reserved
	for _, slot := range l.slots {
		b := &st.budgets[slot]
		if l.expired {
			// Expiry charged the last report; charge the difference.
			m.charge(sh, st, b, used-l.charged)
			continue
		}
		b.reserved -= l.reserved
		m.charge(sh, st, b, used)
	}
	if delta != 0 {
		for _, mk := range l.marks {
			w := &l.windows[mk.win]
			st.windows[mk.slot].s.settle(mk.idx, delta, w.Window.Milliseconds(), w.Limit, w.Fixed)
		}
	}
	if !l.expired {
		st.remove(l)
	}
	return nil
}

func (m *Memory) keepAlive(_ context.Context, l *Lease, ttl time.Duration) error {
	sh := m.shard(l.subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if l.expired || l.state.Load() != leaseOpen || l.heapIdx < 0 {
		return ErrLeaseExpired
	}
	l.expiry = m.now().UnixMilli() + ttl.Milliseconds()
	l.st.fix(l.heapIdx)
	return nil
}

// Spent implements Limiter. In failover mode used includes the Redis figure
// last seen.
func (m *Memory) Spent(_ context.Context, subject, budgetKey string) (used, reserved int64, err error) {
	sh := m.shard(subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.subjects[subject]
	if st == nil {
		return 0, 0, nil
	}
	if slot := st.budget(budgetKey); slot >= 0 {
		b := &st.budgets[slot]
		return b.base + b.used, b.reserved, nil
	}
	return 0, 0, nil
}

// Reset implements Limiter. Leases in flight settle into the forgotten state.
func (m *Memory) Reset(_ context.Context, subject string) error {
	sh := m.shard(subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.subjects, subject)
	delete(sh.dirty, subject)
	return nil
}

// Snapshot returns every budget counter with settled usage, sorted by
// subject and key. Reservations are left out on purpose: after a restart
// nobody will settle them.
func (m *Memory) Snapshot() []Counter {
	var out []Counter
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, st := range sh.subjects {
			for _, b := range st.budgets {
				if b.used != 0 || b.unsynced != 0 {
					out = append(out, Counter{Subject: st.subject, Key: b.key, Used: b.used, Unsynced: b.unsynced})
				}
			}
		}
		sh.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Subject != out[j].Subject {
			return out[i].Subject < out[j].Subject
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// Restore sets the listed counters' usage (reservations stay as they are).
func (m *Memory) Restore(cs []Counter) {
	for _, c := range cs {
		sh := m.shard(c.Subject)
		sh.mu.Lock()
		st := sh.subjects[c.Subject]
		if st == nil {
			st = &subjectState{subject: c.Subject}
			sh.subjects[c.Subject] = st
		}
		slot := st.budget(c.Key)
		if slot < 0 {
			slot = st.addBudget(c.Key)
		}
		b := &st.budgets[slot]
		b.used, b.unsynced = c.Used, c.Unsynced
		if c.Unsynced != 0 {
			sh.dirty[c.Subject] = st
		}
		sh.mu.Unlock()
	}
}

// Close stops the persist loop and saves a last snapshot. Leases may still
// settle afterwards; Acquire returns ErrClosed.
func (m *Memory) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	if m.stop != nil {
		close(m.stop)
		<-m.done
	}
	if m.persister != nil {
		return m.persister.Save(m.Snapshot())
	}
	return nil
}

func (st *subjectState) budget(key string) int32 {
	for i := range st.budgets {
		if st.budgets[i].key == key {
			return int32(i)
		}
	}
	return -1
}

func (st *subjectState) addBudget(key string) int32 {
	st.budgets = append(st.budgets, budgetState{key: key})
	return int32(len(st.budgets) - 1)
}

func (st *subjectState) window(flags, w int64) int32 {
	for i := range st.windows {
		if st.windows[i].flags == flags && st.windows[i].w == w {
			return int32(i)
		}
	}
	return -1
}

func (st *subjectState) addWindow(flags, w int64) int32 {
	st.windows = append(st.windows, memWindow{flags: flags, w: w, s: winState{i: -1}})
	return int32(len(st.windows) - 1)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

var _ Limiter = (*Memory)(nil)
