package pricing

import (
	"math/bits"
)

// MaxCost is the largest cost in micro-dollars Cost and the reservation
// helpers return ($1,125,899,906), larger results saturate to it. It
// equals limits.MaxTokens so that costs count in the same exact range of
// Redis' Lua numbers as tokens.
const MaxCost int64 = 1 << 50

// MaxRate bounds a rate per million tokens ($1,000,000 per 1M tokens) and
// MaxFee a fee per request ($1,000): far above any list price, low enough
// that a mistyped price is caught instead of silently priced.
const (
	MaxRate int64 = 1_000_000 * Micro
	MaxFee  int64 = 1_000 * Micro
)

// Micro is one dollar in micro-dollars.
const Micro int64 = 1_000_000

// perMillion divides the token × rate products: rates are per 1M tokens.
const perMillion = 1_000_000

// Price is one model's list price. Token rates are micro-dollars per
// million tokens; Request is micro-dollars per request. A Price built by
// ParsePrice or the defaults has every rate filled (see Normalize).
type Price struct {
	Input       int64 // prompt tokens not read from or written to a cache
	CachedInput int64 // prompt tokens read from the provider's cache
	CacheWrite  int64 // prompt tokens written to the cache (Anthropic)
	Output      int64 // output tokens, reasoning excluded
	Reasoning   int64 // reasoning tokens (billed as output by most providers)
	Request     int64 // fee per request
}

// Normalize fills the rates a price list leaves out with the rate that can
// only over-charge: cached and cache-write prompt tokens at the input rate,
// reasoning tokens at the output rate. -1 marks a rate left out.
func (p *Price) Normalize() {
	if p.Input < 0 {
		p.Input = 0
	}
	if p.Output < 0 {
		p.Output = 0
	}
	if p.CachedInput < 0 {
		p.CachedInput = p.Input
	}
	if p.CacheWrite < 0 {
		p.CacheWrite = p.Input
	}
	if p.Reasoning < 0 {
		p.Reasoning = p.Output
	}
	if p.Request < 0 {
		p.Request = 0
	}
}

// Usage is what a provider reported for one request. Prompt includes
// Cached and CacheWrite; Completion includes Reasoning (OpenAI's and the
// gateway's convention, see providers.Usage).
type Usage struct {
	Prompt     int64
	Cached     int64
	CacheWrite int64
	Completion int64
	Reasoning  int64
}

// acc is a 128-bit accumulator of token × rate products.
type acc struct{ hi, lo uint64 }

// add adds n × rate; negative inputs count as zero.
func (a *acc) add(n, rate int64) {
	if n <= 0 || rate <= 0 {
		return
	}
	hi, lo := bits.Mul64(uint64(n), uint64(rate))
	var c uint64
	a.lo, c = bits.Add64(a.lo, lo, 0)
	a.hi, c = bits.Add64(a.hi, hi, c)
	if c != 0 {
		a.hi = ^uint64(0) // cannot happen with 2^63 × 2^63 inputs summed a few times; stay saturated
	}
}

// micros divides by a million, rounding up, and saturates at MaxCost.
func (a acc) micros() int64 {
	if a.hi >= perMillion { // the quotient would not fit 64 bits
		return MaxCost
	}
	q, r := bits.Div64(a.hi, a.lo, perMillion)
	if r != 0 {
		q++
	}
	if q > uint64(MaxCost) {
		return MaxCost
	}
	return int64(q)
}

// satAdd adds non-negative costs, saturating at MaxCost.
func satAdd(a, b int64) int64 {
	a, b = max(a, 0), max(b, 0)
	if a > MaxCost-b {
		return MaxCost
	}
	return a + b
}

// Cost is what the request cost by the provider's report: each kind of
// token at its rate, rounded up to a whole micro-dollar, plus the request
// fee. Cached and cache-write tokens are taken out of Prompt, reasoning
// tokens out of Completion (never below zero).
func (p *Price) Cost(u Usage) int64 {
	cached, write := max(u.Cached, 0), max(u.CacheWrite, 0)
	reasoning := max(u.Reasoning, 0)
	var a acc
	a.add(u.Prompt-cached-write, p.Input)
	a.add(cached, p.CachedInput)
	a.add(write, p.CacheWrite)
	a.add(u.Completion-reasoning, p.Output)
	a.add(reasoning, p.Reasoning)
	return satAdd(a.micros(), p.Request)
}

// PromptCost is what prompt tokens the provider read cost at the input
// rate: what a request that reached the provider and never answered owes.
func (p *Price) PromptCost(prompt int64) int64 {
	var a acc
	a.add(prompt, p.Input)
	return satAdd(a.micros(), p.Request)
}

// inMax and outMax are the dearest prompt and output rates.
func (p *Price) inMax() int64  { return max(p.Input, p.CachedInput, p.CacheWrite) }
func (p *Price) outMax() int64 { return max(p.Output, p.Reasoning) }

// WorstCost is the most a request of prompt tokens and output tokens can
// cost, whatever the provider reports for them: every prompt token at the
// dearest prompt rate, every output token at the dearest output rate, plus
// the fee. Reservations use it.
func (p *Price) WorstCost(prompt, output int64) int64 {
	var a acc
	a.add(prompt, p.inMax())
	a.add(output, p.outMax())
	return satAdd(a.micros(), p.Request)
}

// MaxOutput is the most output tokens budget micro-dollars pay for after
// prompt tokens at worst-case rates (WorstCost(prompt, n) <= budget), at
// most limit; 0 when the prompt alone does not fit, and limit when output
// is free.
func (p *Price) MaxOutput(budget, prompt, limit int64) int64 {
	left := budget - p.Request
	if left < 0 || limit <= 0 {
		return 0
	}
	// ceil(x / 1e6) <= left  ⇔  x <= left × 1e6, x = prompt×in + n×out.
	capHi, capLo := bits.Mul64(uint64(left), perMillion)
	var used acc
	used.add(prompt, p.inMax())
	if used.hi > capHi || (used.hi == capHi && used.lo > capLo) {
		return 0
	}
	out := p.outMax()
	if out <= 0 {
		return limit
	}
	remLo, b := bits.Sub64(capLo, used.lo, 0)
	remHi, _ := bits.Sub64(capHi, used.hi, b)
	if remHi >= uint64(out) { // quotient above 2^64: far above any limit
		return limit
	}
	n, _ := bits.Div64(remHi, remLo, uint64(out))
	if n > uint64(limit) {
		return limit
	}
	return int64(n)
}
