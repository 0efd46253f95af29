package proxy

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/pricing"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// Dollar budgets (max_cost_usd, cost_usd rate rules) count micro-dollars
// on a subject of their own, the token hash plus costSuffix, through the
// same Limiter as token budgets: the same reserve → settle exactness,
// clamping, leases, persistence and Redis scripts, with the amounts priced
// by the route's model. The cost lease is taken before the token lease and
// released (settled at zero) when the token lease is refused, so a refusal
// consumes nothing on either subject.
const costSuffix = "/usd"

// costLimits are a token's dollar counters, built once per policy.
type costLimits struct {
	budgets map[string][]limits.Budget // by provider entry cost key; "" is the token's own
	windows []limits.Window
	any     bool   // some dollar limit applies: unpriced models are refused
	subject string // the token hash plus costSuffix, built once
}

func buildCostLimits(hash string, p *policy.Policy) costLimits {
	own := limits.Budget{Key: "", Limit: p.MaxCostMicros()}
	cl := costLimits{budgets: map[string][]limits.Budget{"": {own}}, any: p.HasCostLimits(), subject: hash + costSuffix}
	for _, g := range p.Providers {
		for i, en := range g.Entries {
			if en.MaxCostUSD > 0 {
				key := g.Name + "/" + strconv.Itoa(i)
				cl.budgets[key] = []limits.Budget{own, {Key: key, Limit: en.MaxCostMicros()}}
			}
		}
	}
	if rl := p.RateLimit; rl != nil {
		for _, r := range rl.Rules {
			if c := r.CostMicros(); c > 0 {
				w := limits.Window{Limit: c, Window: r.WindowDuration(), Fixed: r.Strategy == "fixed"}
				w.Name = "cost_usd/" + r.Window
				cl.windows = append(cl.windows, w)
			}
		}
	}
	return cl
}

// costHold is one request's dollar side: the price of its route and, for
// tokens with dollar limits, its lease on the cost subject. It travels
// from the exchange to the relay of a stream.
type costHold struct {
	price  pricing.Price
	priced bool
	req    limits.Request
	lease  *limits.Lease
	owed   int64           // micro-dollars earlier attempts that reached a provider owe
	usage  providers.Usage // the answer's usage, set before the exchange settles
	model  string
	prov   string
}

// priceRoute looks the route's price up; without one, a token with dollar
// limits is refused (fail closed), others are not affected.
// Tokens without dollar limits skip it: metrics price answers themselves
// (costOf).
func (x *exchange) priceRoute(model string, prov *provider) error {
	if !x.tok.cost.any {
		return nil
	}
	c := &x.cost
	c.price, _, c.priced = x.s.prices.Lookup(prov.name, model)
	c.model, c.prov = model, prov.name
	if !c.priced {
		return &core.Error{Status: 403, Type: core.TypePermission, Code: "model_not_priced", Param: "model",
			Message: "This token has a budget in dollars, and the model " + strconv.Quote(model) + " on provider " +
				strconv.Quote(prov.name) + " has no price in this proxy's price table; ask your administrator to add one to providers.yaml."}
	}
	return nil
}

// setCostReserve prices the reservation like setReserve counts it: the
// worst case, the prompt's bound plus the output cap at the dearest rates,
// and as the floor the prompt's bound plus one output token per choice.
func (x *exchange) setCostReserve(costKey string) {
	c := &x.cost
	b, ok := x.tok.cost.budgets[costKey]
	if !ok {
		b = x.tok.cost.budgets[""]
	}
	p := &c.price
	c.req = limits.Request{Subject: x.tok.cost.subject, Budgets: b, Windows: x.tok.cost.windows,
		LeaseTTL: x.s.cfg.Session.LeaseTTL.D()}
	worst := p.WorstCost(x.promptMax(), x.outCap)
	c.req.Reserve, c.req.Worst = worst, worst
	if x.ep == epEmbeddings {
		c.req.Floor = worst // nothing to clamp
	} else {
		c.req.Floor = p.WorstCost(x.promptMax(), x.choices)
	}
	c.req.Report = p.PromptCost(x.estimate)
}

// acquireCost reserves the dollars of the request, when the token has
// dollar limits. A refusal names both numbers in dollars.
func (x *exchange) acquireCost(costKey string) error {
	if !x.tok.cost.any {
		return nil
	}
	x.setCostReserve(costKey)
	l, err := x.s.limiter.Acquire(context.Background(), &x.cost.req)
	if err != nil {
		return x.s.costLimitError(x, err)
	}
	x.cost.lease = l
	x.s.flight.hold(l)
	return nil
}

// clampCost lowers the output cap per choice to what a clamped dollar
// grant pays for after the prompt's bound, at the route's worst rates.
func (x *exchange) clampCost() {
	l := x.cost.lease
	if l == nil || x.ep == epEmbeddings || !l.Clamped() {
		return
	}
	per := x.cost.price.MaxOutput(l.Reserved(), x.promptMax(), limits.MaxTokens) / x.choices
	if per >= 1 && per < x.sentCap() {
		x.capLimit = per
	}
}

// usageOf converts a provider report for pricing.
func pricedUsage(u providers.Usage) pricing.Usage {
	return pricing.Usage{Prompt: u.PromptTokens, Cached: u.CachedTokens, CacheWrite: u.CacheWriteTokens,
		Completion: u.CompletionTokens, Reasoning: u.ReasoningTokens}
}

// charge is what the request owes in micro-dollars for usage u.
func (c *costHold) charge(u providers.Usage) int64 {
	var v int64
	if c.priced {
		v = c.price.Cost(pricedUsage(u))
	}
	return limits.SatAdd(v, c.owed)
}

// owe records what an attempt that reached provider prov for model, and
// then failed, costs: its prompt estimate and the output seen.
func (x *exchange) owe(a attempt, prompt, output int64) {
	x.owed = limits.SatAdd(x.owed, limits.SatAdd(prompt, output))
	p, _, ok := x.s.prices.Lookup(a.prov.name, a.model)
	if !ok {
		return
	}
	x.cost.owed = limits.SatAdd(x.cost.owed, p.Cost(pricing.Usage{Prompt: prompt, Completion: output}))
}

// settleCost charges the cost lease what the request cost and frees it;
// a stream the budget cut (atMost) settles no more than its reservation,
// since what went past it never reached the client.
func (s *Server) settleCost(c *costHold, u providers.Usage, reqID, short string, atMost bool) {
	if c.lease == nil {
		return
	}
	l := c.lease
	c.lease = nil
	s.flight.release(l)
	charge := c.charge(u)
	if atMost {
		charge = min(charge, l.Reserved())
	}
	c.owed = 0
	if err := s.limiter.Settle(context.Background(), l, charge); err != nil {
		s.log.Warn("settling cost failed", "request_id", reqID, "token", short, "cost_usd_micros", charge, "error", err)
	}
}

// releaseCost frees a cost lease at zero: the token lease was refused.
func (s *Server) releaseCost(c *costHold) {
	if c.lease == nil {
		return
	}
	s.flight.release(c.lease)
	_ = s.limiter.Settle(context.Background(), c.lease, 0)
	c.lease = nil
}

// costLimitError is limitError for the dollar subject: the rule is named
// in dollars and the budget message gives both numbers in dollars.
func (s *Server) costLimitError(x *exchange, err error) error {
	var le *limits.LimitError
	if !errors.As(err, &le) {
		return s.limitError(x, err)
	}
	if le.Kind == limits.KindBudget {
		le.Rule = "max_cost_usd" + strings.TrimPrefix(le.Rule, "max_tokens")
	}
	out := s.limitError(x, err)
	// The x-ratelimit-* headers speak of tokens and requests: a dollar
	// refusal says its numbers in the message instead.
	x.limitErr = nil
	if ce, ok := out.(*core.Error); ok && le.Kind == limits.KindBudget {
		ce.Message = costBudgetMessage(x, le)
	}
	return out
}

func costBudgetMessage(x *exchange, le *limits.LimitError) string {
	b := make([]byte, 0, 200)
	b = append(b, "Cost budget exhausted: "...)
	b = append(b, le.Rule...)
	b = append(b, " has "...)
	b = pricing.AppendUSD(b, le.Remaining)
	b = append(b, " of "...)
	b = pricing.AppendUSD(b, le.Limit)
	b = append(b, " left, and this request to "...)
	b = append(b, x.cost.model...)
	b = append(b, " may cost up to "...)
	p := &x.cost.price
	pm := x.promptMax()
	b = pricing.AppendUSD(b, p.WorstCost(pm, 0))
	b = append(b, " for its prompt ("...)
	b = strconv.AppendInt(b, pm, 10)
	b = append(b, " tokens at most)"...)
	if x.ep != epEmbeddings {
		b = append(b, " plus "...)
		b = pricing.AppendUSD(b, p.WorstCost(pm, x.choices)-p.WorstCost(pm, 0))
		b = append(b, " for "...)
		b = strconv.AppendInt(b, x.choices, 10)
		b = append(b, " output token"...)
		if x.choices > 1 {
			b = append(b, 's')
		}
	}
	b = append(b, '.')
	return string(b)
}

// costMoves reports whether a fallback attempt needs its dollars reserved
// again: another provider entry's dollar budget, or another price.
func (x *exchange) costMoves(a attempt) bool {
	if !x.tok.cost.any {
		return false
	}
	return a.res.CostKey != x.res.CostKey || a.model != x.cost.model || a.prov.name != x.cost.prov
}

// rebudgetCost reserves the dollars of a fallback attempt, after settle
// released the previous attempt's.
func (x *exchange) rebudgetCost(a attempt) error {
	if err := x.priceRoute(a.model, a.prov); err != nil {
		return err
	}
	return x.acquireCost(a.res.CostKey)
}

// costOf prices an answer for metrics and events: the cost in
// micro-dollars and the model label ("other" when the model has no price).
func (s *Server) costOf(a attempt, u providers.Usage) (int64, string) {
	p, label, ok := s.prices.Lookup(a.prov.name, a.model)
	if !ok {
		return 0, "other"
	}
	return p.Cost(pricedUsage(u)), label
}

// setCostCut lowers a stream's output allowance (streamcut.go) to what its
// dollar grant pays for after the prompt, so a provider that ignores the
// lowered cap cannot overspend a dollar budget either.
func (r *relay) setCostCut(x *exchange) {
	l := r.cost.lease
	if l == nil || x.ep == epEmbeddings {
		return
	}
	allow := max(r.cost.price.MaxOutput(l.Reserved()-r.cost.owed, x.promptMax(), limits.MaxTokens), 1)
	if r.outAllow <= 0 || allow < r.outAllow {
		r.outAllow = allow
	}
}
