package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Resolve returns the effective settings for a requested model.
//
// With providers, groups and entries are walked in written order and the
// first entry that admits the model wins: an entry admits it by exact model,
// by model_regex (unanchored), or by naming neither. A top-level model and
// model_regex, when set, must each admit the model as well. Without providers only the
// top-level model/model_regex is checked, and naming neither admits any
// model; such a route names the policy's default_provider, if any. A
// refused model yields an error wrapping ErrModelNotAllowed, an empty one
// ErrNoModel.
//
// Resolve does not allocate on success; it needs the state Validate
// computes, and an uncompiled model_regex admits nothing.
func (p *Policy) Resolve(model string) (Resolved, error) {
	if model == "" {
		return Resolved{}, ErrNoModel
	}
	r, ok := p.resolve(model)
	if !ok {
		return Resolved{}, fmt.Errorf("%w: %q", ErrModelNotAllowed, model)
	}
	return r, nil
}

// AllowsModel reports whether Resolve would succeed for model.
func (p *Policy) AllowsModel(model string) bool {
	_, ok := p.resolve(model)
	return ok
}

func (p *Policy) resolve(model string) (Resolved, bool) {
	if model == "" || !admitsAll(p.Model, p.ModelRegex, p.modelRE, model) {
		return Resolved{}, false
	}
	r := Resolved{
		Model:       model,
		GroupIndex:  -1,
		EntryIndex:  -1,
		KeyEnv:      p.BaseKeyEnv,
		UpstreamURL: p.UpstreamURL,
		Timeout:     seconds(p.Timeout),
	}
	if len(p.Providers) == 0 {
		r.Provider = p.DefaultProvider
		return r, true
	}
	for gi := range p.Providers {
		g := &p.Providers[gi]
		for i := range g.Entries {
			e := &g.Entries[i]
			if !admits(e.Model, e.ModelRegex, e.modelRE, model) {
				continue
			}
			r.Provider = g.Name
			r.GroupIndex, r.EntryIndex = gi, i
			if e.BaseKeyEnv != "" {
				r.KeyEnv = e.BaseKeyEnv
			}
			if e.UpstreamURL != "" {
				r.UpstreamURL = e.UpstreamURL
			}
			if e.Timeout != 0 {
				r.Timeout = seconds(e.Timeout)
			}
			r.MaxTokens = e.MaxTokens
			if e.MaxTokens > 0 {
				r.BudgetKey = e.budgetKey
				if r.BudgetKey == "" { // not validated since built or changed
					r.BudgetKey = g.Name + "/" + strconv.Itoa(i)
				}
			}
			if e.MaxCostUSD > 0 {
				r.MaxCost, r.CostKey = e.maxCost, e.costKey
				if r.CostKey == "" || r.MaxCost == 0 { // not validated since built or changed
					r.MaxCost, r.CostKey = micros(e.MaxCostUSD), g.Name+"/"+strconv.Itoa(i)
				}
			}
			return r, true
		}
	}
	return Resolved{}, false
}

// admitsAll is the top-level check: each of model and model_regex that is
// set must admit the model.
func admitsAll(exact, pattern string, re *regexp.Regexp, model string) bool {
	return (exact == "" || exact == model) && (pattern == "" || (re != nil && re.MatchString(model)))
}

// admits is a provider entry's check: the entry admits the model by exact
// model or by model_regex; an entry naming neither admits every model.
func admits(exact, pattern string, re *regexp.Regexp, model string) bool {
	if exact == "" && pattern == "" {
		return true
	}
	return (exact != "" && exact == model) ||
		(pattern != "" && re != nil && re.MatchString(model))
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// HasRules reports whether any rule applies to scope, which is ScopeInput or
// ScopeOutput; rules with scope both apply to each. Other values report false.
func (p *Policy) HasRules(scope string) bool {
	if scope != ScopeInput && scope != ScopeOutput {
		return false
	}
	for i := range p.Rules {
		s := p.Rules[i].Scope
		if s == ScopeBoth || s == scope || (s == "" && scope == ScopeInput) {
			return true
		}
	}
	return false
}

// RoutePrompts returns the prompts injected for a route: the provider
// entry's own prompts, then the policy's. The result is shared when the
// entry has none; do not modify it.
func (p *Policy) RoutePrompts(r Resolved) []Message {
	e := p.entry(r)
	if e == nil || len(e.Prompts) == 0 {
		return p.Prompts
	}
	return append(slices.Clone(e.Prompts), p.Prompts...)
}

// RouteRules returns the rules that run for a route: the policy's, then the
// provider entry's own. The result is shared when the entry has none; do
// not modify it.
func (p *Policy) RouteRules(r Resolved) []Rule {
	e := p.entry(r)
	if e == nil || len(e.Rules) == 0 {
		return p.Rules
	}
	return append(slices.Clone(p.Rules), e.Rules...)
}

// HasRouteContent reports whether the route's entry brings prompts or rules
// of its own, so callers can share the policy-wide ones otherwise.
func (p *Policy) HasRouteContent(r Resolved) bool {
	e := p.entry(r)
	return e != nil && (len(e.Prompts) > 0 || len(e.Rules) > 0)
}

func (p *Policy) entry(r Resolved) *ProviderEntry {
	if r.GroupIndex < 0 || r.GroupIndex >= len(p.Providers) {
		return nil
	}
	g := &p.Providers[r.GroupIndex]
	if r.EntryIndex < 0 || r.EntryIndex >= len(g.Entries) {
		return nil
	}
	return &g.Entries[r.EntryIndex]
}
