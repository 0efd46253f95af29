package policy

import (
	"slices"
	"strconv"
	"strings"
)

// applyDefaults normalizes a valid policy so readers see final values, and
// stores empty lists as nil so a policy equals its own re-parsed Marshal.
func (p *Policy) applyDefaults() {
	for i := range p.Rules {
		r := &p.Rules[i]
		r.Action = normalAction(r.Action)
		if r.Scope == "" {
			r.Scope = ScopeInput
		}
		if r.OnError == "" {
			// Fail closed: a rule that blocks or masks must not wave a
			// request through when its check cannot run (DESIGN.md).
			r.OnError = OnErrorAllow
			if r.Action == ActionFail || r.Action == ActionMask {
				r.OnError = OnErrorBlock
			}
		}
		if r.Type == RuleTypeJailbreak && r.Threshold == 0 {
			r.Threshold = JailbreakThreshold
		}
		r.SHA256 = strings.ToLower(r.SHA256)
		if len(r.Config) > 0 {
			// Canonical form: compact, valid UTF-8, key order and numbers as
			// written, so plugins get clean input and Marshal round-trips.
			if cv, err := decodeDocument(r.Config); err == nil { // Validate checked
				r.Config = cv.appendJSON(nil)
			}
		} else {
			r.Config = nil
		}
		r.Detect = nilIfEmpty(r.Detect)
		r.Keywords = nilIfEmpty(r.Keywords)
	}
	if rl := p.RateLimit; rl != nil {
		for i := range rl.Rules {
			if rl.Rules[i].Strategy == "" {
				rl.Rules[i].Strategy = StrategySliding
			}
		}
		rl.Rules = nilIfEmpty(rl.Rules)
	}
	if r := p.Retry; r != nil {
		if len(r.RetryOn) == 0 {
			r.RetryOn = slices.Clone(defaultRetryOn)
		}
		r.Fallbacks = nilIfEmpty(r.Fallbacks)
	}
	p.Prompts = nilIfEmpty(p.Prompts)
	p.Rules = nilIfEmpty(p.Rules)
	if len(p.Metadata) == 0 {
		p.Metadata = nil
	}
	p.Providers = nilIfEmpty(p.Providers)
	for gi := range p.Providers {
		g := &p.Providers[gi]
		for i := range g.Entries {
			e := &g.Entries[i]
			// An entry's rules and prompts get the same normalization as the
			// policy's own.
			sub := Policy{Rules: e.Rules, Prompts: e.Prompts}
			sub.applyDefaults()
			e.Rules, e.Prompts = sub.Rules, sub.Prompts
			e.budgetKey = ""
			if e.MaxTokens > 0 {
				// Computed once here so Resolve need not allocate it.
				e.budgetKey = g.Name + "/" + strconv.Itoa(i)
			}
			e.costKey = ""
			if e.MaxCostUSD > 0 {
				e.costKey = g.Name + "/" + strconv.Itoa(i)
			}
		}
	}
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}
