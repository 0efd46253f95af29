package policy

import (
	"fmt"

	"github.com/tokenomics-dev/tokenomics/core/pricing"
)

// MaxCostUSDLimit bounds max_cost_usd and cost_usd: a billion dollars,
// inside the range counters keep exact (pricing.MaxCost).
const MaxCostUSDLimit = 1_000_000_000

// micros converts a dollar amount the way Validate does; 0 when invalid.
func micros(usd float64) int64 {
	if usd <= 0 {
		return 0
	}
	v, err := pricing.FromFloat(usd)
	if err != nil || v > MaxCostUSDLimit*pricing.Micro {
		return 0
	}
	return v
}

// MaxCostMicros returns max_cost_usd in micro-dollars; 0 when there is no
// dollar budget.
func (p *Policy) MaxCostMicros() int64 {
	if p.maxCost == 0 && p.MaxCostUSD > 0 { // not validated since built or changed
		return micros(p.MaxCostUSD)
	}
	return p.maxCost
}

// MaxCostMicros returns the entry's max_cost_usd in micro-dollars; 0 when
// it has no dollar budget.
func (e *ProviderEntry) MaxCostMicros() int64 {
	if e.maxCost == 0 && e.MaxCostUSD > 0 {
		return micros(e.MaxCostUSD)
	}
	return e.maxCost
}

// CostMicros returns cost_usd in micro-dollars; 0 for requests and tokens
// rules.
func (r RateRule) CostMicros() int64 {
	if r.cost == 0 && r.CostUSD > 0 {
		return micros(r.CostUSD)
	}
	return r.cost
}

// HasCostLimits reports whether any dollar budget or cost window applies to
// some request of the policy: those tokens need a price for every model
// they use.
func (p *Policy) HasCostLimits() bool {
	if p.MaxCostUSD > 0 {
		return true
	}
	if p.RateLimit != nil {
		for _, r := range p.RateLimit.Rules {
			if r.CostUSD > 0 {
				return true
			}
		}
	}
	for _, g := range p.Providers {
		for _, e := range g.Entries {
			if e.MaxCostUSD > 0 {
				return true
			}
		}
	}
	return false
}

// cost checks a dollar amount at path and returns it in micro-dollars.
func (v *validator) cost(at string, usd float64) int64 {
	if usd == 0 {
		return 0
	}
	if usd < 0 {
		v.add(at, "must not be negative")
		return 0
	}
	if usd > MaxCostUSDLimit {
		v.add(at, "must be at most %d dollars", MaxCostUSDLimit)
		return 0
	}
	m, err := pricing.FromFloat(usd)
	if err != nil {
		v.add(at, "must be in dollars with at most six decimals (whole micro-dollars), got %v", usd)
		return 0
	}
	return m
}

// costWindows refuses two cost_usd rules with the same window and
// strategy: they would be one counter, which the limiter refuses to count
// twice (every request of the token would fail).
func (v *validator) costWindows(rl *RateLimit) {
	for i := range rl.Rules {
		r := &rl.Rules[i]
		if r.CostUSD <= 0 {
			continue
		}
		for j := range rl.Rules[:i] {
			o := &rl.Rules[j]
			if o.CostUSD > 0 && o.WindowDuration() == r.WindowDuration() && (o.Strategy == StrategyFixed) == (r.Strategy == StrategyFixed) {
				v.add(fmt.Sprintf("rate_limit.rules[%d]", i), "same window and strategy as rate_limit.rules[%d]; keep the lower cost_usd", j)
				break
			}
		}
	}
}
