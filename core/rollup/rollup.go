package rollup

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Key identifies one rollup row. Token is the token's full HMAC hash (never
// the token); Minute is the start of the minute, in Unix seconds.
type Key struct {
	Token    string `json:"token_hash"`
	Model    string `json:"model"`
	Provider string `json:"provider"`
	Minute   int64  `json:"minute"`
}

// Counts are the figures of one row.
type Counts struct {
	Requests          int64            `json:"requests"`
	InputTokens       int64            `json:"input_tokens"`
	CachedInputTokens int64            `json:"cached_input_tokens"`
	OutputTokens      int64            `json:"output_tokens"`
	ReasoningTokens   int64            `json:"reasoning_tokens"`
	CostMicros        int64            `json:"cost_micros"`
	Refusals          map[string]int64 `json:"refusals,omitempty"`
}

// Add adds o to c. Sums saturate at math.MaxInt64 rather than wrap: a
// report may then understate, but never shows a negative spend.
func (c *Counts) Add(o *Counts) {
	c.Requests = satAdd(c.Requests, o.Requests)
	c.InputTokens = satAdd(c.InputTokens, o.InputTokens)
	c.CachedInputTokens = satAdd(c.CachedInputTokens, o.CachedInputTokens)
	c.OutputTokens = satAdd(c.OutputTokens, o.OutputTokens)
	c.ReasoningTokens = satAdd(c.ReasoningTokens, o.ReasoningTokens)
	c.CostMicros = satAdd(c.CostMicros, o.CostMicros)
	for k, v := range o.Refusals {
		if c.Refusals == nil {
			c.Refusals = make(map[string]int64, len(o.Refusals))
		}
		c.Refusals[k] = satAdd(c.Refusals[k], v)
	}
}

// satAdd adds non-negative counts, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// RefusalTotal is the number of refusals of every reason.
func (c *Counts) RefusalTotal() int64 {
	var n int64
	for _, v := range c.Refusals {
		n = satAdd(n, v)
	}
	return n
}

func (c *Counts) zero() bool {
	return c.Requests == 0 && c.InputTokens == 0 && c.CachedInputTokens == 0 && c.OutputTokens == 0 &&
		c.ReasoningTokens == 0 && c.CostMicros == 0 && c.RefusalTotal() == 0
}

func (c *Counts) reset() {
	refusals := c.Refusals
	for k := range refusals {
		refusals[k] = 0
	}
	*c = Counts{Refusals: refusals}
}

// Row is one key's counts.
type Row struct {
	Key
	Counts
}

// Batch is what a proxy sends to central: rows under an id unique to the
// proxy (its instance id and a sequence number), which central stores once.
type Batch struct {
	ID       string    `json:"id"`
	Instance string    `json:"instance"`
	Seq      uint64    `json:"seq"`
	Created  time.Time `json:"created"`
	Rows     []Row     `json:"rows"`
}

// Usage is one request's figures, as the proxy settled them.
type Usage struct {
	Input, CachedInput, Output, Reasoning int64
	CostMicros                            int64
}

// Aggregator sums requests and refusals per Key until Drain. Its entries are
// kept across drains and zeroed, so a key seen before costs no allocation;
// an entry idle for a whole interval is dropped at the next Drain.
type Aggregator struct {
	mu   sync.Mutex
	rows map[Key]*entry
}

type entry struct {
	Counts
	idle bool // nothing recorded since the last Drain
}

// NewAggregator returns an empty Aggregator.
func NewAggregator() *Aggregator { return &Aggregator{rows: map[Key]*entry{}} }

func minuteOf(t time.Time) int64 {
	s := t.Unix()
	return s - s%60
}

func (a *Aggregator) entry(k Key) *entry {
	e := a.rows[k]
	if e == nil {
		e = &entry{}
		a.rows[k] = e
	}
	e.idle = false
	return e
}

// Record counts one request that reached a provider.
func (a *Aggregator) Record(token, model, provider string, at time.Time, u Usage) {
	if a == nil {
		return
	}
	k := Key{Token: token, Model: model, Provider: provider, Minute: minuteOf(at)}
	a.mu.Lock()
	e := a.entry(k)
	e.Requests++
	e.InputTokens += u.Input
	e.CachedInputTokens += u.CachedInput
	e.OutputTokens += u.Output
	e.ReasoningTokens += u.Reasoning
	e.CostMicros += u.CostMicros
	a.mu.Unlock()
}

// Refuse counts one request the proxy refused, by reason code. token is ""
// when the request was refused before its token was known.
func (a *Aggregator) Refuse(token, model, provider string, at time.Time, reason string) {
	if a == nil {
		return
	}
	k := Key{Token: token, Model: model, Provider: provider, Minute: minuteOf(at)}
	a.mu.Lock()
	e := a.entry(k)
	if e.Refusals == nil {
		e.Refusals = make(map[string]int64, 2)
	}
	e.Refusals[reason]++
	a.mu.Unlock()
}

// Drain returns every non-zero row, sorted by key, and zeroes them.
func (a *Aggregator) Drain() []Row {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Row
	for k, e := range a.rows {
		if e.idle {
			delete(a.rows, k)
			continue
		}
		e.idle = true
		if e.zero() {
			continue
		}
		r := Row{Key: k, Counts: e.Counts}
		r.Refusals = nil
		for reason, n := range e.Refusals {
			if n != 0 {
				if r.Refusals == nil {
					r.Refusals = map[string]int64{}
				}
				r.Refusals[reason] = n
			}
		}
		out = append(out, r)
		e.reset()
	}
	SortRows(out)
	return out
}

// SortRows orders rows by minute, token, model and provider.
func SortRows(rows []Row) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key.less(rows[j].Key) })
}

func (k Key) less(o Key) bool {
	if k.Minute != o.Minute {
		return k.Minute < o.Minute
	}
	if k.Token != o.Token {
		return k.Token < o.Token
	}
	if k.Model != o.Model {
		return k.Model < o.Model
	}
	return k.Provider < o.Provider
}
