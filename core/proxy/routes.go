package proxy

import (
	"fmt"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// buildRoutes prepares, for each provider entry of the policy that brings
// prompts or rules of its own, a variant of the token's entry with the
// merged prompts (the entry's before the policy's) and rules (the policy's,
// then the entry's). Entries without their own content share e. A variant
// whose rules do not compile makes the whole token refuse (fail closed).
func (s *Server) buildRoutes(e *tokenEntry) {
	p := e.policy
	for gi := range p.Providers {
		g := &p.Providers[gi]
		for i := range g.Entries {
			res := policy.Resolved{GroupIndex: gi, EntryIndex: i}
			if !p.HasRouteContent(res) {
				continue
			}
			v, err := s.routeVariant(e, p.RoutePrompts(res), p.RouteRules(res), len(g.Entries[i].Rules) > 0)
			if err != nil {
				e.err = fmt.Errorf("provider entry %s[%d]: %w", g.Name, i, err)
				s.log.Error("token rules do not compile; the token is refused", "token", e.short, "error", e.err)
				return
			}
			if e.routes == nil {
				e.routes = make([][]*tokenEntry, len(p.Providers))
			}
			if e.routes[gi] == nil {
				e.routes[gi] = make([]*tokenEntry, len(g.Entries))
			}
			e.routes[gi][i] = v
		}
	}
}

// routeVariant copies what requests read from e and replaces the prompts,
// and the rules when the entry has its own (else e's compiled set is shared).
func (s *Server) routeVariant(e *tokenEntry, prompts []policy.Message, rs []policy.Rule, ownRules bool) (*tokenEntry, error) {
	// The dollar budgets (cost) are the token's whatever the route: a
	// variant without them was never charged nor refused in dollars.
	// The variant's template is a copy of e's (policy, limits, memory,
	// rules) with the entry's prompts, and its rules when it has its own.
	var vt policyTemplate
	if e.policyTemplate != nil {
		vt = *e.policyTemplate
	}
	vt.prompts, vt.promptEstimate, vt.promptBound = nil, 0, 0
	v := &tokenEntry{policyTemplate: &vt, hash: e.hash, short: e.short, expiresAt: e.expiresAt, hasExpiry: e.hasExpiry,
		cost: e.cost}
	for _, m := range prompts {
		v.prompts = append(v.prompts, providers.Message{Role: m.Role, Content: m.Content})
		v.promptEstimate += providers.EstimateTokens([]byte(m.Content)) + providers.TokensPerMessage
		v.promptBound += providers.MessageBound(m.Content)
	}
	if !ownRules {
		return v, nil
	}
	if s.rulesHost == nil {
		return nil, fmt.Errorf("the policy has content rules and this proxy runs no rule host")
	}
	// As in buildEntry: shared, never waiting on plugin work.
	tr, err := s.ruleSets.compile(rs)
	if err != nil {
		return nil, fmt.Errorf("compiling rules: %w", err)
	}
	v.rules = tr
	return v, nil
}

// forRoute is the entry requests routed by res use: the variant of its
// provider entry when that entry has prompts or rules of its own, else e.
func (e *tokenEntry) forRoute(res policy.Resolved) *tokenEntry {
	if res.GroupIndex < 0 || res.GroupIndex >= len(e.routes) {
		return e
	}
	g := e.routes[res.GroupIndex]
	if res.EntryIndex < 0 || res.EntryIndex >= len(g) || g[res.EntryIndex] == nil {
		return e
	}
	return g[res.EntryIndex]
}
